// Start from an image: drop, paste or choose a PNG/JPEG/SVG (or press Edit under a result), paint the
// part to redraw, pick how much is redrawn; the style picker and the prompt say what it becomes.
// Drops and pastes anywhere on the page land here. A file that cannot be used leaves everything as it was.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { editSteps } from '../engine/start.ts';
import { emitSettings } from './events.ts';
import { decodeStartFile, fitStart, type StartState } from './start-image.ts';
import './mask-editor.ts';
import type { MaskTool } from './mask-editor.ts';

/** Events this panel sends up: the new start state (null: none), or why a file was refused. */
export type StartChange = StartState | null;

@customElement('edit-panel')
export class EditPanel extends LitElement {
  static override styles = css`
    :host { display: grid; gap: 0.5rem; }
    .drop { border: 2px dashed #999; border-radius: 6px; padding: 0.75rem; color: #555; font-size: 0.9rem; }
    .drop.over { border-color: #1565c0; background: #e8f1fc; }
    .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; font-size: 0.9rem; }
    label.strength { display: grid; grid-template-columns: 6rem 1fr 3.5rem; align-items: center; gap: 0.5rem; }
    .hint { color: #666; font-size: 0.85rem; margin: 0; }
  `;

  @property({ attribute: false }) start: StartState | null = null;
  @property({ type: Number }) width = 0; // the canvas
  @property({ type: Number }) height = 0;
  @property({ type: Number }) strength = 60; // %
  @property({ type: Number }) steps = 18;
  @property({ type: Boolean }) disabled = false;
  @state() private tool: MaskTool = 'brush';
  @state() private radius = 2;
  @state() private over = false;
  private refitting: StartState | null = null; // the state being fitted to a new canvas size

  /** Page-wide: a pasted or dropped file (pasted text stays the prompt box's). */
  private readonly listeners: Record<string, EventListener> = {
    paste: (e) => this.take(e, (e as ClipboardEvent).clipboardData?.files[0]),
    dragover: (e) => {
      if (!(e as DragEvent).dataTransfer?.types.includes('Files')) return;
      e.preventDefault(); // lets the drop happen
      this.over = true;
    },
    dragleave: () => {
      this.over = false;
    },
    drop: (e) => {
      this.over = false;
      this.take(e, (e as DragEvent).dataTransfer?.files[0]);
    },
  };

  private take(e: Event, file: File | undefined): void {
    if (!file) return;
    e.preventDefault();
    void this.load(file);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    for (const [type, f] of Object.entries(this.listeners)) addEventListener(type, f);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const [type, f] of Object.entries(this.listeners)) removeEventListener(type, f);
  }

  private emit(next: StartChange): void {
    this.dispatchEvent(new CustomEvent<StartChange>('start-change', { detail: next, bubbles: true, composed: true }));
  }

  /** Decodes and fits a file; on failure sends 'start-error' and keeps the current start image and mask. */
  async load(file: File): Promise<void> {
    if (this.disabled) return;
    try {
      const source = await decodeStartFile(file);
      this.emit(await fitStart(source, this.width, this.height));
    } catch (e) {
      this.dispatchEvent(new CustomEvent('start-error', { detail: e, bubbles: true, composed: true }));
    }
  }

  /** A new canvas size refits the source and scales the mask painted so far (nothing is lost). */
  protected override willUpdate(): void {
    const s = this.start;
    if (!s || (s.width === this.width && s.height === this.height) || this.refitting === s) return;
    this.refitting = s;
    const mask = s.mask && { mask: s.mask, width: s.width, height: s.height };
    fitStart(s.source, this.width, this.height, mask).then(
      (next) => this.start === s && this.emit(next),
      (e) => this.dispatchEvent(new CustomEvent('start-error', { detail: e, bubbles: true, composed: true })));
  }

  private pick(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // the same file can be chosen again
    if (file) void this.load(file);
  }

  private setMask(mask: Float32Array | null): void {
    if (this.start) this.emit({ ...this.start, mask });
  }

  override render() {
    const s = this.start, off = this.disabled;
    const chooser = html`<label class="row">${s ? 'Another image:' : 'Or choose a file:'}
      <input type="file" data-testid="start-file" accept="image/png,image/jpeg,image/svg+xml,.png,.jpg,.jpeg,.svg"
        ?disabled=${off} @change=${this.pick} /></label>`;
    if (!s) {
      return html`<div class="drop ${this.over ? 'over' : ''}" data-testid="drop-zone">
        Drop or paste a PNG, JPEG or SVG anywhere on the page, or press <strong>Edit</strong> under a result, to
        restyle it, make variations or repaint part of it.</div>${chooser}`;
    }
    const k = editSteps(this.steps, this.strength / 100);
    const masked = s.mask?.some((v) => v > 0);
    return html`
      <div class="row"><span data-testid="start-name">${s.source.name}</span>
        <button type="button" data-testid="start-remove" ?disabled=${off}
          @click=${() => this.emit(null)}>Remove</button>
      </div>
      <mask-editor .image=${s.image} .width=${s.width} .height=${s.height} .mask=${s.mask} .tool=${this.tool}
        .radius=${this.radius} ?disabled=${off}
        @mask-change=${(e: CustomEvent<Float32Array>) => this.setMask(e.detail)}></mask-editor>
      <div class="row" role="group" aria-label="mask tools">
        ${(['brush', 'eraser'] as const).map((t) => html`<label><input type="radio" name="tool" data-testid="tool-${t}"
          .checked=${this.tool === t} ?disabled=${off} @change=${() => (this.tool = t)} />${t}</label>`)}
        <label>size <input type="range" data-testid="brush-size" min="0.5" max="8" step="0.5"
          .value=${String(this.radius)} ?disabled=${off}
          @input=${(e: Event) => (this.radius = Number((e.target as HTMLInputElement).value))} /></label>
        <button type="button" data-testid="mask-clear" ?disabled=${off || !masked}
          @click=${() => this.setMask(null)}>Clear mask</button>
      </div>
      <p class="hint" data-testid="edit-mode">${masked
        ? 'Repaint: only the painted part is redrawn; the rest stays exactly as it is.'
        : 'Restyle: the whole image is redrawn. Paint over a part to redraw only that.'}</p>
      <label class="strength">strength <input type="range" data-testid="strength" min="0" max="100" step="1"
        .value=${String(this.strength)} ?disabled=${off}
        @input=${(e: Event) => emitSettings(this, { strength: Number((e.target as HTMLInputElement).value) })} />
        <output>${this.strength}%</output></label>
      <p class="hint" data-testid="strength-steps">${k === 0
        ? 'At 0% the image comes back unchanged.'
        : `Runs the last ${k} of ${this.steps} steps${k === this.steps ? ', from pure noise' : ''}: higher strengths ` +
          'change more.'}</p>
      ${chooser}
      ${s.width !== this.width || s.height !== this.height
        ? html`<p class="hint">Fitting to the canvas…</p>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'edit-panel': EditPanel }
}
