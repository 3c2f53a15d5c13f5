// A batch of RGBA images as canvases (the live preview or the results), scaled up crisply,
// each with a download-as-PNG button and an Edit button (start from it) when asked for.
import { LitElement, html, css, nothing, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ImageBatch } from '../engine/types.ts';

@customElement('image-grid')
export class ImageGrid extends LitElement {
  static override styles = css`
    :host { display: block; }
    .grid { display: flex; flex-wrap: wrap; gap: 0.5rem; }
    figure { margin: 0; display: grid; gap: 0.2rem; justify-items: start; }
    canvas { image-rendering: pixelated; background: #eee; border: 1px solid #ccc; }
    h3 { font-size: 0.95rem; margin: 0.25rem 0; }
  `;

  @property({ attribute: false }) batch?: ImageBatch;
  @property() heading = '';
  @property() filename = 'lego'; // download names: <filename>-<i>.png
  @property({ type: Boolean }) downloads = false;
  @property({ type: Boolean }) editable = false; // an Edit button sends 'edit-image' with the image's index
  @property({ type: Number }) displaySize = 192; // CSS px of the longer side

  private draw() {
    const b = this.batch;
    if (!b) return;
    this.renderRoot.querySelectorAll('canvas').forEach((c, i) => {
      const img = b.images[i];
      if (!img) return;
      c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img), b.width, b.height), 0, 0);
    });
  }

  protected override updated(_: PropertyValues): void {
    this.draw();
  }

  private edit(i: number) {
    this.dispatchEvent(new CustomEvent('edit-image', { detail: i, bubbles: true, composed: true }));
  }

  private download(i: number) {
    const c = this.renderRoot.querySelectorAll('canvas')[i];
    c?.toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${this.filename}-${i}.png`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    }, 'image/png');
  }

  override render() {
    const b = this.batch;
    if (!b) return nothing;
    const scale = Math.max(1, Math.floor(this.displaySize / Math.max(b.width, b.height)));
    return html`${this.heading ? html`<h3>${this.heading}</h3>` : nothing}
      <div class="grid">${b.images.map((_, i) => html`<figure>
        <canvas width=${b.width} height=${b.height} style="width:${b.width * scale}px;height:${b.height * scale}px"
          data-testid="image" aria-label="${this.heading} image ${i + 1}"></canvas>
        ${this.downloads ? html`<button type="button" data-testid="download"
          @click=${() => this.download(i)}>Download PNG</button>` : nothing}
        ${this.editable ? html`<button type="button" data-testid="edit" title="Start from this image"
          @click=${() => this.edit(i)}>Edit</button>` : nothing}
      </figure>`)}</div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'image-grid': ImageGrid }
}
