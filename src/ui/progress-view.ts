// Progress of a generation: step i of N, time per step, total time.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { mean, ms } from './format.ts';
import type { RunState } from './session.ts';

@customElement('progress-view')
export class ProgressView extends LitElement {
  static override styles = css`
    :host { display: block; font-variant-numeric: tabular-nums; }
    progress { width: 100%; height: 0.8rem; }
    .line { display: flex; gap: 1rem; flex-wrap: wrap; font-size: 0.9rem; }
  `;

  @property({ attribute: false }) run?: RunState;
  @property({ type: Boolean }) running = false;

  override render() {
    const r = this.run;
    if (!r) return nothing;
    const total = (r.endedAt ?? performance.now()) - r.startedAt;
    const per = mean(r.stepMs);
    const eta = this.running && r.step ? per * (r.steps - r.step) : undefined;
    return html`
      <progress data-testid="progress" max=${r.steps} value=${r.step}></progress>
      <div class="line">
        <span data-testid="step">Step ${r.step} / ${r.steps}</span>
        <span>${ms(per)} per step</span>
        <span data-testid="total">${this.running ? 'elapsed' : 'total'} ${ms(total)}</span>
        ${eta != null ? html`<span>about ${ms(eta)} left</span>` : nothing}
        ${!this.running && r.endedAt && r.step === r.steps ? html`<span data-testid="done">done</span>` : nothing}
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'progress-view': ProgressView }
}
