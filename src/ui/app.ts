// The app shell: settings (mirrored in the URL), the session (GPU, model, engine), and the layout.
import { LitElement, html, css, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { toImages } from '../engine/engine.ts';
import type { SettingsPatch } from './events.ts';
import { describeError, urlNotice } from './notices.ts';
import { costKey, Session } from './session.ts';
import { fitToModel, readQuery, toQuery, type EngineChoice, type Settings, type UrlProblem } from './settings.ts';
import { fitStart, resultSource, startFileNotice, startImage, type StartState } from './start-image.ts';
import './brick-panel.ts';
import './edit-panel.ts';
import './data-credits.ts';
import './gen-controls.ts';
import './image-grid.ts';
import './model-status.ts';
import './notice-list.ts';
import './progress-view.ts';
import './prompt-box.ts';

@customElement('lego-app')
export class LegoApp extends LitElement {
  static override styles = css`
    :host {
      display: block; font: 15px/1.4 system-ui, sans-serif;
      margin: 0 auto; padding: 1rem; max-width: 72rem; color: #222;
    }
    h1 { font-size: 1.4rem; margin: 0 0 0.5rem; }
    h2 { font-size: 1.05rem; margin: 0.75rem 0 0.4rem; }
    main { display: grid; grid-template-columns: minmax(18rem, 26rem) 1fr; gap: 1.5rem; }
    @media (max-width: 50rem) { main { grid-template-columns: 1fr; } }
    .actions { display: flex; gap: 0.5rem; align-items: center; margin-bottom: 0.5rem; }
    .actions button { font-size: 1.05rem; padding: 0.4rem 1.2rem; }
    a.share { font-size: 0.85rem; }
    .compare { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }
  `;

  private readonly link = readQuery(location.search);
  @state() private settings: Settings = this.link.settings;
  private readonly session = new Session(this, this.settings.model, this.settings.engine);
  private fitted = false;
  @state() private start: StartState | null = null; // the image to start from (not in the URL)

  override connectedCallback(): void {
    super.connectedCallback();
    (globalThis as { __lego?: unknown }).__lego = { app: this, session: this.session }; // for tests and debugging
    // No blank page: anything that escapes becomes a message too.
    addEventListener('error', (e) => this.session.notify(describeError(e.error ?? e.message)));
    addEventListener('unhandledrejection', (e) => this.session.notify(describeError(e.reason)));
    this.notifyLink(this.link.problems);
  }

  protected override willUpdate(): void {
    const meta = this.session.model?.meta;
    if (meta && !this.fitted) {
      this.fitted = true;
      const problems: UrlProblem[] = [];
      this.settings = fitToModel(this.settings, meta, problems);
      this.notifyLink(problems);
      this.syncUrl();
    }
  }

  /** Says which parameters of the link the page opened with it did not use, and what it used instead. */
  private notifyLink(problems: UrlProblem[]) {
    problems.forEach((p) => this.session.notify(urlNotice(p)));
  }

  private syncUrl() {
    history.replaceState(null, '', `${location.pathname}?${toQuery(this.settings)}`);
  }

  private onSettings(e: CustomEvent<SettingsPatch>) {
    const meta = this.session.model?.meta;
    const next = { ...this.settings, ...e.detail };
    this.settings = meta ? fitToModel(next, meta) : next;
    if (e.detail.bricks) this.session.setBricks(this.settings.bricks);
    this.syncUrl();
  }

  private onEngine(e: CustomEvent<EngineChoice>) {
    this.settings = { ...this.settings, engine: e.detail };
    this.syncUrl();
    void this.session.setEngineChoice(e.detail);
  }

  private generate() {
    void this.session.generate(this.settings, this.start ? startImage(this.start, this.settings.strength) : undefined);
  }

  private onStart(e: CustomEvent<StartState | null>) {
    this.start = e.detail;
    this.session.dismiss('start');
  }

  /** "Edit" under a result: that image becomes the start image. */
  private async editResult(e: CustomEvent<number>) {
    const r = this.session.result;
    if (!r) return;
    const source = resultSource(r.images, e.detail, `result ${e.detail + 1} (seed ${r.settings.seed})`);
    this.start = await fitStart(source, this.settings.width, this.settings.height);
    this.session.dismiss('start');
  }

  override render() {
    const s = this.session, meta = s.model?.meta, running = s.phase === 'running';
    const result = s.result;
    const costs = s.engine && meta ? s.engine.brickCost(this.settings.width, this.settings.height) : [];
    const stepMs = s.run?.stepMs ?? [];
    return html`
      <h1>LEGO Diffusion on WebGPU</h1>
      <notice-list .notices=${s.notices}
        @dismiss=${(e: CustomEvent<{ id: string }>) => s.dismiss(e.detail.id)}></notice-list>
      <model-status .phase=${s.phase} .meta=${meta} .download=${s.download}
        .storage=${s.storage} .modelUrl=${s.modelUrl}
        .adapter=${s.gpu?.adapterName ?? ''} .gpuBytes=${s.engine?.allocatedBytes ?? 0}
        .engineInfo=${s.engineInfo} .engineChoice=${this.settings.engine} ?switchDisabled=${running}
        @remove-cache=${() => void s.removeCache()} @engine-change=${this.onEngine}></model-status>
      <main @settings-change=${this.onSettings}>
        <section>
          <h2>Prompt</h2>
          <prompt-box .vocab=${meta?.labels.vocab ?? []}
            .stopWords=${(meta?.labels as { stop_words?: string[] })?.stop_words ?? []}
            .value=${this.settings.prompt} ?disabled=${running || !meta}></prompt-box>
          <h2>Start image</h2>
          <edit-panel .start=${this.start} .width=${this.settings.width} .height=${this.settings.height}
            .strength=${this.settings.strength} .steps=${this.settings.steps} ?disabled=${running || !meta}
            @start-change=${this.onStart}
            @start-error=${(e: CustomEvent) => s.notify(startFileNotice(e.detail))}></edit-panel>
          <h2>Settings</h2>
          <gen-controls .settings=${this.settings} .meta=${meta} ?disabled=${running}></gen-controls>
          <h2>Bricks</h2>
          ${meta ? html`<brick-panel .specs=${meta.architecture.bricks} .bricks=${this.settings.bricks} .costs=${costs}
            .stepMs=${stepMs} .active=${s.run?.active ?? []} .fullMs=${s.fullMs.get(costKey(this.settings))}
            .brickMs=${result?.brickMs}></brick-panel>` : nothing}
        </section>
        <section>
          <div class="actions">
            ${running
              ? html`<button data-testid="cancel" @click=${() => s.cancel()}>Cancel</button>`
              : html`<button data-testid="generate" ?disabled=${s.phase !== 'ready'}
                  @click=${this.generate}>Generate</button>`}
            <a class="share" href=${location.href}
              title="These settings and seed reproduce the result">Link to these settings</a>
          </div>
          <progress-view .run=${s.run} ?running=${running}></progress-view>
          ${running || !result
            ? html`<image-grid data-testid="preview" heading="Denoised estimate (live)"
              .batch=${s.preview}></image-grid>`
            : nothing}
          ${result && !running ? html`<div class="compare">
            ${result.start ? html`<image-grid data-testid="before" heading="Before"
              .batch=${toImages(result.start.image, 1, result.images.width, result.images.height)}></image-grid>`
              : nothing}
            <image-grid data-testid="results" downloads editable
              heading="${result.start ? 'After' : 'Results'} (seed ${result.settings.seed})"
              filename="lego-${result.settings.seed}" .batch=${result.images}
              @edit-image=${this.editResult}></image-grid></div>` : nothing}
        </section>
      </main>
      ${meta
        ? html`<data-credits .styleNames=${meta.labels.styles} .info=${meta.style_info ?? {}}></data-credits>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'lego-app': LegoApp }
}
