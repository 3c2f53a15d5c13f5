// Credits for the training data of the loaded model's styles, as their licenses ask (CC BY and
// CC BY-SA need attribution), from model.json's style_info.
import { LitElement, html, css } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StyleInfo } from '../model/format.ts';

@customElement('data-credits')
export class DataCredits extends LitElement {
  static override styles = css`
    :host {
      display: block; font-size: 0.8rem; color: #555;
      margin-top: 1.5rem; border-top: 1px solid #ddd; padding-top: 0.5rem;
    }
    ul { margin: 0.25rem 0 0; padding-left: 1.2rem; }
  `;

  @property({ type: Array }) styleNames: string[] = [];
  @property({ attribute: false }) info: Record<string, StyleInfo> = {};

  override render() {
    const missing = this.styleNames.filter((s) => !this.info[s]);
    return html`<div data-testid="credits">Training data: the emoji sets behind each style.
      <ul>${this.styleNames.filter((s) => this.info[s]).map((s) => {
        const c = this.info[s];
        return html`<li data-style=${s}><b>${s}</b>: <a href=${c.url}>${c.title}</a> by ${c.author},
          <a href=${c.license_url}>${c.license}</a>${c.attribution ? html`. ${c.attribution}` : ''}</li>`;
      })}</ul>
      ${missing.length ? html`<p>This model's model.json names no source for ${missing.join(', ')}.</p>` : ''}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'data-credits': DataCredits }
}
