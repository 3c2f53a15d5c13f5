// The bricks: how many are active, each one on/off with its share of the compute (or that it does not run
// at this canvas size) and a skip window over the sampling steps; what the configuration saves, estimated
// and measured.
// Changes apply live, from the next network evaluation of a running generation.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { BrickSetting } from '../engine/types.ts';
import type { BrickSpec } from '../model/format.ts';
import { emitSettings } from './events.ts';
import { estimatedCost, paperSkip } from './bricks.ts';
import { median, ms, pct } from './format.ts';

@customElement('brick-panel')
export class BrickPanel extends LitElement {
  static override styles = css`
    :host { display: grid; gap: 0.5rem; }
    .brick { border: 1px solid #ccc; border-radius: 6px; padding: 0.4rem 0.6rem; }
    .brick.ran { border-color: #2e7d32; box-shadow: 0 0 0 1px #2e7d32; }
    .share { display: block; height: 4px; background: #1565c0; margin: 0.2rem 0; }
    .skip { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 0.3rem;
      align-items: center; font-size: 0.85rem; }
    .sum { font-size: 0.9rem; }
    button { justify-self: start; }
  `;

  @property({ attribute: false }) specs: BrickSpec[] = [];
  @property({ attribute: false }) bricks: BrickSetting[] = [];
  @property({ attribute: false }) costs: number[] = [];
  @property({ attribute: false }) stepMs: number[] = []; // this run (or the last one)
  @property({ attribute: false }) active: number[] = []; // bricks that ran in the last step
  @property({ attribute: false }) fullMs?: number; // ms/step with every brick, same settings
  @property({ attribute: false }) brickMs?: number[];

  private emit(bricks: BrickSetting[]) {
    emitSettings(this, { bricks });
  }

  /** Whether brick k runs at the current canvas size (its share is 0 where its regions do not fit). */
  private runs(k: number): boolean {
    return this.costs[k] !== 0;
  }

  private patch(k: number, p: Partial<BrickSetting>) {
    const next = this.bricks.map((b, i) => (i === k ? { ...b, ...p } : b));
    if (next.some((b, i) => b.enabled && this.runs(i))) this.emit(next);
    else this.requestUpdate(); // the last brick that runs stays on: re-render the checkbox
  }

  private setSkip(k: number, which: 0 | 1, v: number) {
    const [a, b] = this.bricks[k].skip ?? [0, 0];
    const w: [number, number] = which === 0 ? [v, Math.max(v, b)] : [Math.min(a, v), v];
    this.patch(k, { skip: w[1] > w[0] ? w : null });
  }

  private row(spec: BrickSpec, b: BrickSetting, k: number) {
    const [s0, s1] = b.skip ?? [0, 0];
    const onlyOne = b.enabled && this.runs(k) && this.bricks.filter((x, i) => x.enabled && this.runs(i)).length === 1;
    return html`<div class="brick ${this.active.includes(k) ? 'ran' : ''}" data-testid="brick-${k}">
      <label><input type="checkbox" data-testid="brick-toggle-${k}" .checked=${b.enabled} ?disabled=${onlyOne}
        @change=${(e: Event) => this.patch(k, { enabled: (e.target as HTMLInputElement).checked })} />
        Brick ${k + 1}: ${spec.region}×${spec.region} regions, ${spec.patch}×${spec.patch} patches,
        depth ${spec.depth}
        ${this.costs[k] === 0 ? html` · <i data-testid="brick-unused-${k}">not used at this size</i>`
          : this.costs[k] != null ? html` · <b>${pct(this.costs[k])}</b> of the compute` : nothing}
        ${this.brickMs?.[k] != null ? html` · ${ms(this.brickMs[k])} GPU` : nothing}</label>
      ${this.costs[k] != null ? html`<span class="share" style="width:${this.costs[k] * 100}%"></span>` : nothing}
      <div class="skip">skip from
        <input type="range" min="0" max="1" step="0.05" .value=${String(s0)} data-testid="skip-start-${k}"
          ?disabled=${!b.enabled}
          @input=${(e: Event) => this.setSkip(k, 0, Number((e.target as HTMLInputElement).value))} />
        to <input type="range" min="0" max="1" step="0.05" .value=${String(s1)} data-testid="skip-end-${k}"
          ?disabled=${!b.enabled}
          @input=${(e: Event) => this.setSkip(k, 1, Number((e.target as HTMLInputElement).value))} />
      </div>
      <small>${b.skip ? `skipped for steps ${pct(s0)}–${pct(s1)} of the way` : 'runs at every step'}</small>
    </div>`;
  }

  override render() {
    const n = this.specs.length, on = this.bricks.filter((b) => b.enabled).length;
    const est = estimatedCost(this.bricks, this.costs);
    const last = this.stepMs.at(-1), avg = median(this.stepMs);
    const setCount = (e: Event) => {
      const k = Number((e.target as HTMLInputElement).value);
      this.emit(this.bricks.map((b, i) => ({ ...b, enabled: i < k })));
    };
    const saves = est < 0.999 ? html` (<b>saves ${pct(1 - est)}</b>)` : nothing;
    const measured = html`<span data-testid="ms-per-step">${ms(avg)}</span> per step (median), last step ${ms(last)}`;
    const faster = this.fullMs && avg < this.fullMs ? `${pct(1 - avg / this.fullMs)} faster` : 'no faster';
    return html`
      <label>Active bricks: <input type="range" data-testid="active-bricks" min="1" max=${n} .value=${String(on)}
        @input=${setCount} />
        ${on} of ${n}</label>
      <button type="button" data-testid="paper-skip"
        @click=${() => this.emit(paperSkip(this.specs, this.bricks))}>Paper's skip rule</button>
      ${this.specs.map((s, k) => (this.bricks[k] ? this.row(s, this.bricks[k], k) : nothing))}
      <div class="sum" data-testid="brick-summary">
        ${this.costs.length ? html`Estimated: ${pct(est)} of the all-bricks compute${saves}.<br />` : nothing}
        Measured: ${this.stepMs.length ? measured : 'no run yet'}
        ${this.fullMs && this.stepMs.length && est < 0.999
          ? html`; with all bricks: ${ms(this.fullMs)} per step (${faster})` : nothing}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'brick-panel': BrickPanel }
}
