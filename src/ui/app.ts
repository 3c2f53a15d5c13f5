// Placeholder app shell: reports whether WebGPU is usable here. The real UI replaces it.
import { LitElement, html, css } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { acquireDevice } from '../gpu/device';

@customElement('lego-app')
export class LegoApp extends LitElement {
  static override styles = css`
    :host { display: block; font: 16px/1.4 system-ui, sans-serif; margin: 2rem; }
    .error { color: #b00020; }
  `;

  @state() private status = 'Looking for a WebGPU adapter…';
  @state() private failed = false;

  override async connectedCallback(): Promise<void> {
    super.connectedCallback();
    try {
      const gpu = await acquireDevice();
      this.status = `WebGPU ready on ${gpu.adapterName}` +
        (gpu.isFallback ? ' (a software adapter: generation will be slow)' : '');
    } catch (e) {
      this.failed = true;
      this.status = (e as Error).message;
    }
  }

  override render() {
    return html`<h1>LEGO Diffusion on WebGPU</h1>
      <p class=${this.failed ? 'error' : ''} data-testid="gpu-status">${this.status}</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lego-app': LegoApp }
}
