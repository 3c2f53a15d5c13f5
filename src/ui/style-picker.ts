// The style picker: "any" or one of the styles the model knows, each with a real training image
// of that style from model.json's style_info (a model without it shows just the names).
import { LitElement, html, css } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StyleInfo } from '../model/format.ts';
import { emitSettings } from './events.ts';

@customElement('style-picker')
export class StylePicker extends LitElement {
  static override styles = css`
    :host { display: block; }
    fieldset { border: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem; }
    legend { padding: 0; margin-bottom: 0.25rem; }
    label { display: inline-flex; flex-direction: column; align-items: center; gap: 0.1rem; padding: 0.2rem 0.3rem;
      border: 1px solid #ccc; border-radius: 4px; font-size: 0.75rem; cursor: pointer; min-width: 3.2rem; }
    label.on { border-color: #1565c0; outline: 2px solid #1565c0; }
    input { position: absolute; opacity: 0; pointer-events: none; }
    img, .none { width: 32px; height: 32px; }
    .none { display: grid; place-items: center; color: #666; font-size: 1.2rem; }
  `;

  @property({ type: Array }) styleNames: string[] = [];
  @property({ attribute: false }) info: Record<string, StyleInfo> = {};
  @property() value: string | null = null;
  @property({ type: Boolean }) disabled = false;

  private option(name: string | null) {
    const info = name ? this.info[name] : undefined;
    const on = name === this.value;
    return html`<label class=${on ? 'on' : ''} data-testid="style-option" data-style=${name ?? ''}
      title=${info
        ? `${info.title} (${info.license})${info.preview_emoji ? `: ${info.preview_emoji}` : ''}`
        : name ?? 'any style'}>
      <input type="radio" name="style" .checked=${on} ?disabled=${this.disabled}
        @change=${() => emitSettings(this, { style: name })} />
      ${info?.preview ? html`<img src=${info.preview} alt="${name}: ${info.preview_emoji ?? 'preview'}" />`
        : html`<span class="none" aria-hidden="true">${name ? '·' : '∗'}</span>`}
      ${name ?? 'any'}</label>`;
  }

  override render() {
    return html`<fieldset data-testid="style"><legend>style</legend>
      ${this.option(null)}${this.styleNames.map((s) => this.option(s))}</fieldset>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'style-picker': StylePicker }
}
