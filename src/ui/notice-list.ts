// Messages for people: errors (with what to do), warnings and info, each dismissable but errors.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Notice } from './notices.ts';

@customElement('notice-list')
export class NoticeList extends LitElement {
  static override styles = css`
    :host { display: block; }
    .n { border-left: 4px solid; padding: 0.5rem 0.75rem; margin: 0 0 0.5rem; border-radius: 4px; position: relative; }
    .error { border-color: #b00020; background: #fdecee; }
    .warning { border-color: #b26a00; background: #fff4e0; }
    .info { border-color: #1565c0; background: #e8f1fc; }
    strong { display: block; }
    p { margin: 0.25rem 0 0; }
    ol { margin: 0.25rem 0 0; padding-left: 1.25rem; }
    button { position: absolute; top: 0.25rem; right: 0.25rem; border: 0;
      background: none; cursor: pointer; font-size: 1rem; }
  `;

  @property({ attribute: false }) notices: Notice[] = [];

  private dismiss(id: string) {
    this.dispatchEvent(new CustomEvent('dismiss', { detail: { id }, bubbles: true, composed: true }));
  }

  override render() {
    return this.notices.map((n) => html`
      <div class="n ${n.level}" role=${n.level === 'error' ? 'alert' : 'status'} data-testid="notice-${n.id}"
        data-level=${n.level}>
        <strong>${n.title}</strong>
        <p>${n.text}</p>
        ${n.steps?.length ? html`<ol>${n.steps.map((s) => html`<li>${s}</li>`)}</ol>` : nothing}
        ${n.level !== 'error'
          ? html`<button title="Dismiss" aria-label="Dismiss" @click=${() => this.dismiss(n.id)}>×</button>`
          : nothing}
      </div>`);
  }
}

declare global {
  interface HTMLElementTagNameMap { 'notice-list': NoticeList }
}
