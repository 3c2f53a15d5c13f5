// Which model, engine and GPU the page runs on (and why that engine), the engine switch, the
// weights download, the offline copy and its removal.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ModelJson } from '../model/format.ts';
import type { StorageInfo } from '../store/weights-cache.ts';
import { bytes, count } from './format.ts';
import type { EngineInfo, Phase } from './session.ts';
import type { EngineChoice } from './settings.ts';

/** The CPU engine's offline state, as the Engine line says it. */
const OFFLINE_TEXT: Record<NonNullable<EngineInfo['offline']>, string> = {
  kept: 'kept for offline use', 'not kept': 'not kept for offline use',
};

@customElement('model-status')
export class ModelStatus extends LitElement {
  static override styles = css`
    :host { display: block; font-size: 0.9rem; color: #333; }
    progress { width: 16rem; vertical-align: middle; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.75rem; margin: 0.25rem 0; }
    dt { color: #666; }
    dd { margin: 0; }
  `;

  @property() phase: Phase = 'starting';
  @property({ attribute: false }) meta?: ModelJson;
  @property({ attribute: false })
  download = { loaded: 0, total: 0, from: undefined as 'cache' | 'network' | undefined };
  @property({ attribute: false }) storage?: StorageInfo;
  @property() adapter = '';
  @property({ type: Number }) gpuBytes = 0;
  @property() modelUrl = '';
  @property({ attribute: false }) engineInfo?: EngineInfo;
  @property() engineChoice: EngineChoice = 'auto';
  @property({ type: Boolean }) switchDisabled = false;

  private chooseEngine(e: Event) {
    const value = (e.target as HTMLSelectElement).value as EngineChoice;
    this.dispatchEvent(new CustomEvent('engine-change', { detail: value, bubbles: true, composed: true }));
  }

  private engineLine() {
    const i = this.engineInfo;
    const name = !i ? 'choosing…'
      : i.kind === 'webgpu' ? 'WebGPU (your GPU)'
      : `CPU (WebAssembly${i.threads ? `, ${i.threads} thread${i.threads > 1 ? 's' : ''}` : ''})`;
    return html`<span data-testid="engine" data-kind=${i?.kind ?? ''}>${name}</span>${i
      ? html` <span data-testid="engine-reason">— ${i.reason}</span>`
      : nothing}${i?.offline ? html` · <span data-testid="engine-offline"
        data-state=${i.offline}>${OFFLINE_TEXT[i.offline]}</span>` : nothing}
      <select data-testid="engine-choice" aria-label="Engine" ?disabled=${this.switchDisabled}
        @change=${this.chooseEngine}>
        ${(['auto', 'webgpu', 'cpu'] as const).map((c) => html`<option value=${c}
          ?selected=${c === this.engineChoice}>${
            c === 'auto' ? 'Automatic' : c === 'webgpu' ? 'WebGPU' : 'CPU'}</option>`)}
      </select>`;
  }

  private removeCache() {
    this.dispatchEvent(new CustomEvent('remove-cache', { bubbles: true, composed: true }));
  }

  private downloadLine() {
    const { loaded, total, from } = this.download;
    if (this.phase === 'starting') return html`Starting the engine…`;
    if (this.phase === 'downloading') {
      return html`Loading the model from ${this.modelUrl}… <progress data-testid="download-progress"
        max=${total || 1} value=${loaded}></progress> ${bytes(loaded)} / ${bytes(total)}`;
    }
    if (from === 'cache') {
      return html`<span
        data-testid="weights-source">Weights loaded from this browser's offline copy (no download).</span>`;
    }
    if (from === 'network') {
      return html`<span
        data-testid="weights-source">Weights downloaded (${bytes(loaded)}) and checked (SHA-256).</span>`;
    }
    return nothing;
  }

  override render() {
    const m = this.meta, cached = m && this.storage?.models.some((c) => c.name === m.name);
    const usage = this.storage?.usage != null
      ? `${bytes(this.storage.usage)} of ${bytes(this.storage.quota)} available to this site`
      : 'unknown';
    return html`
      <div>${this.downloadLine()}</div>
      <dl>
        <dt>Engine</dt><dd>${this.engineLine()}</dd>
        ${this.adapter ? html`<dt>GPU</dt><dd data-testid="adapter">${this.adapter}${
          this.gpuBytes ? ` · ${bytes(this.gpuBytes)} allocated` : ''}</dd>` : nothing}
        ${m ? html`<dt>Model</dt><dd>${m.name}: ${(m.param_count / 1e6).toFixed(2)} M parameters, ${
          m.architecture.bricks.length} bricks${
          m.training ? `, trained on ${count(m.training.images_seen)} images` : ''}</dd>` : nothing}
        <dt>Storage</dt><dd data-testid="storage">${usage}${
          m ? (cached ? ' · model saved for offline use' : ' · model not saved offline') : ''}
          ${cached ? html`<button data-testid="remove-cache"
            @click=${this.removeCache}>Remove cached model</button>` : nothing}</dd>
      </dl>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'model-status': ModelStatus }
}
