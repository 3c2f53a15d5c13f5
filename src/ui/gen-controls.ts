// Generation settings: canvas size, steps, sampler, guidance, category, style, seed, batch.
import { LitElement, html, css } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ModelJson } from '../model/format.ts';
import { promptCategory } from '../model/labels.ts';
import { emitSettings, type SettingsPatch } from './events.ts';
import { LIMITS, randomSeed, sizePresets, validSizes, type Settings } from './settings.ts';
import './size-picker.ts';
import './style-picker.ts';

@customElement('gen-controls')
export class GenControls extends LitElement {
  static override styles = css`
    :host { display: grid; gap: 0.5rem; }
    label { display: grid; grid-template-columns: 6rem 1fr auto; align-items: center; gap: 0.5rem; }
    input[type='number'] { width: 8rem; }
    .hint { color: #666; font-size: 0.85rem; }
  `;

  @property({ attribute: false }) settings!: Settings;
  @property({ attribute: false }) meta?: ModelJson;
  @property({ type: Boolean }) disabled = false;

  private set(patch: SettingsPatch) {
    emitSettings(this, patch);
  }

  private num(e: Event) {
    return Number((e.target as HTMLInputElement).value);
  }

  private picker(name: 'category', options: string[]) {
    const value = this.settings[name] ?? '';
    const fromPrompt = this.meta && promptCategory(this.meta.labels, this.settings.prompt);
    return html`<label>${name}
      <select data-testid=${name} ?disabled=${this.disabled}
        @change=${(e: Event) => this.set({ [name]: (e.target as HTMLSelectElement).value || null })}>
        <option value="" ?selected=${!value}>${fromPrompt ? `from the prompt: ${fromPrompt}` : 'any'}</option>
        ${options.map((o) => html`<option value=${o} ?selected=${o === value}>${o}</option>`)}
      </select><span></span></label>`;
  }

  override render() {
    const s = this.settings, m = this.meta, off = this.disabled;
    if (!m) return html`<p class="hint">Settings appear when the model is loaded.</p>`;
    const shiftHint = 'Shift the region grid by half a region on alternate steps, ' +
      'so content flows across tile borders on large canvases';
    return html`
      <size-picker .sizes=${validSizes(m)} .presets=${sizePresets(m)}
        .width=${s.width} .height=${s.height} ?disabled=${off}></size-picker>
      <label>steps <input type="range" data-testid="steps" min=${LIMITS.steps[0]} max=${LIMITS.steps[1]}
        .value=${String(s.steps)} ?disabled=${off}
        @input=${(e: Event) => this.set({ steps: this.num(e) })} /><output>${s.steps}</output></label>
      <label>sampler <select data-testid="sampler" ?disabled=${off}
        @change=${(e: Event) => this.set({ sampler: (e.target as HTMLSelectElement).value as Settings['sampler'] })}>
        <option value="heun" ?selected=${s.sampler === 'heun'}>Heun (2nd order, 2 evaluations a step)</option>
        <option value="euler" ?selected=${s.sampler === 'euler'}>Euler (1 evaluation a step)</option>
      </select><span></span></label>
      <label>guidance <input type="range" data-testid="guidance" min=${LIMITS.guidance[0]} max=${LIMITS.guidance[1]}
        step="0.25" .value=${String(s.guidance)} ?disabled=${off}
        @input=${(e: Event) => this.set({ guidance: this.num(e) })}
        /><output>${s.guidance === 1 ? 'off' : s.guidance}</output></label>
      ${this.picker('category', m.labels.categories)}
      <style-picker .styleNames=${m.labels.styles} .info=${m.style_info ?? {}}
        .value=${s.style} ?disabled=${off}></style-picker>
      <label>seed <input type="number" data-testid="seed" min="0" max="4294967295"
        .value=${String(s.seed)} ?disabled=${off}
        @change=${(e: Event) => this.set({ seed: Math.max(0, Math.min(0xffffffff, Math.floor(this.num(e)) || 0)) })} />
        <button type="button" data-testid="randomise" ?disabled=${off}
          @click=${() => this.set({ seed: randomSeed() })}>Randomise</button></label>
      <label>batch <input type="range" data-testid="batch" min=${LIMITS.batch[0]} max=${LIMITS.batch[1]}
        .value=${String(s.batch)} ?disabled=${off}
        @input=${(e: Event) => this.set({ batch: this.num(e) })} /><output>${s.batch}</output></label>
      <label title=${shiftHint}>
        shifted tiling <input type="checkbox" data-testid="shift" .checked=${s.shift} ?disabled=${off}
        @change=${(e: Event) => this.set({ shift: (e.target as HTMLInputElement).checked })} /><span></span></label>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'gen-controls': GenControls }
}
