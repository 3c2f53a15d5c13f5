// The start image, scaled up, with the mask painted over it by pointer (mouse, pen or touch: pointer
// events, and touch-action none so a finger paints instead of scrolling). The brush marks pixels to
// redraw, the eraser unmarks them; each finished stroke is sent up as a new mask.
import { LitElement, html, css, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';

export type MaskTool = 'brush' | 'eraser';

/** Mask overlay colour (RGB) and opacity over the image. */
const OVERLAY = [229, 57, 53] as const, OVERLAY_ALPHA = 0.55;

@customElement('mask-editor')
export class MaskEditor extends LitElement {
  static override styles = css`
    :host { display: inline-block; }
    canvas { image-rendering: pixelated; border: 1px solid #ccc; touch-action: none; cursor: crosshair;
      display: block; }
    canvas[aria-disabled='true'] { cursor: default; opacity: 0.8; }
  `;

  @property({ attribute: false }) image?: Uint8ClampedArray; // RGBA8 width×height
  @property({ type: Number }) width = 0;
  @property({ type: Number }) height = 0;
  @property({ attribute: false }) mask: Float32Array | null = null;
  @property() tool: MaskTool = 'brush';
  @property({ type: Number }) radius = 2; // canvas pixels
  @property({ type: Boolean }) disabled = false;
  @property({ type: Number }) displaySize = 240; // CSS px of the longer side

  private stroke: { mask: Float32Array; last: [number, number] } | null = null;

  private get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas');
  }

  /** The image with the mask over it. */
  private draw(mask = this.stroke?.mask ?? this.mask): void {
    const c = this.canvas;
    if (!c || !this.image) return;
    const px = new Uint8ClampedArray(this.image);
    if (mask) {
      for (let i = 0; i < mask.length; i++) {
        const a = OVERLAY_ALPHA * mask[i];
        for (let ch = 0; ch < 3; ch++) px[4 * i + ch] = px[4 * i + ch] * (1 - a) + OVERLAY[ch] * a;
      }
    }
    c.getContext('2d')!.putImageData(new ImageData(px, this.width, this.height), 0, 0);
  }

  protected override updated(_: PropertyValues): void {
    this.draw();
  }

  /** Canvas pixel coordinates (continuous) of a pointer event. */
  private at(e: PointerEvent): [number, number] {
    const r = this.canvas!.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * this.width, ((e.clientY - r.top) / r.height) * this.height];
  }

  /** Paints a disc of `radius` at each point of the segment from a to b. */
  private paint(mask: Float32Array, [ax, ay]: [number, number], [bx, by]: [number, number]): void {
    const v = this.tool === 'brush' ? 1 : 0, r = this.radius;
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / Math.max(r / 2, 0.25)));
    for (let s = 0; s <= n; s++) {
      const x = ax + ((bx - ax) * s) / n, y = ay + ((by - ay) * s) / n;
      for (let py = Math.max(0, Math.floor(y - r)); py < Math.min(this.height, Math.ceil(y + r)); py++) {
        for (let px = Math.max(0, Math.floor(x - r)); px < Math.min(this.width, Math.ceil(x + r)); px++) {
          if ((px + 0.5 - x) ** 2 + (py + 0.5 - y) ** 2 <= r * r) mask[py * this.width + px] = v;
        }
      }
    }
  }

  private down(e: PointerEvent): void {
    if (this.disabled || !this.image || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    this.canvas!.setPointerCapture(e.pointerId);
    const mask = this.mask ? new Float32Array(this.mask) : new Float32Array(this.width * this.height);
    const p = this.at(e);
    this.stroke = { mask, last: p };
    this.paint(mask, p, p);
    this.draw();
  }

  private move(e: PointerEvent): void {
    if (!this.stroke) return;
    const p = this.at(e);
    this.paint(this.stroke.mask, this.stroke.last, p);
    this.stroke.last = p;
    this.draw();
  }

  private up(): void {
    if (!this.stroke) return;
    const { mask } = this.stroke;
    this.stroke = null;
    this.dispatchEvent(new CustomEvent<Float32Array>('mask-change', { detail: mask, bubbles: true, composed: true }));
  }

  override render() {
    const scale = Math.max(1, Math.floor(this.displaySize / Math.max(this.width, this.height, 1)));
    return html`<canvas data-testid="mask-canvas" width=${this.width} height=${this.height}
      style="width:${this.width * scale}px;height:${this.height * scale}px" aria-disabled=${this.disabled}
      aria-label="Start image: paint with the pointer to mark the part to redraw"
      @pointerdown=${this.down} @pointermove=${this.move} @pointerup=${this.up} @pointercancel=${this.up}></canvas>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'mask-editor': MaskEditor }
}
