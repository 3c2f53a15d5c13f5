// Canvas size: width and height sliders over the valid sizes (multiples of the largest region),
// plus square and panorama presets.
import { LitElement, html, css } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { emitSettings } from './events.ts';

@customElement('size-picker')
export class SizePicker extends LitElement {
  static override styles = css`
    :host { display: block; }
    label { display: grid; grid-template-columns: 4rem 1fr 3.5rem; align-items: center; gap: 0.5rem; }
    .presets { display: flex; flex-wrap: wrap; gap: 0.25rem; margin-top: 0.25rem; }
    button[aria-pressed='true'] { font-weight: bold; outline: 2px solid #1565c0; }
  `;

  @property({ type: Array }) sizes: number[] = [];
  @property({ type: Array }) presets: { label: string; width: number; height: number }[] = [];
  @property({ type: Number }) width = 0;
  @property({ type: Number }) height = 0;
  @property({ type: Boolean }) disabled = false;

  private slider(name: 'width' | 'height', value: number) {
    const i = Math.max(0, this.sizes.indexOf(value));
    const pick = (e: Event) => emitSettings(this, { [name]: this.sizes[Number((e.target as HTMLInputElement).value)] });
    return html`<label>${name}
      <input type="range" data-testid=${name} min="0" max=${this.sizes.length - 1} step="1" .value=${String(i)}
        ?disabled=${this.disabled}
        @input=${pick} />
      <output>${value} px</output></label>`;
  }

  override render() {
    return html`
      ${this.slider('width', this.width)}
      ${this.slider('height', this.height)}
      <div class="presets">${this.presets.map((p) => html`
        <button type="button" ?disabled=${this.disabled}
          aria-pressed=${p.width === this.width && p.height === this.height}
          @click=${() => emitSettings(this, { width: p.width, height: p.height })}>${p.label}</button>`)}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'size-picker': SizePicker }
}
