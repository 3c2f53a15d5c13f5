// The prompt: words of emoji names as chips, autocomplete over the model's vocabulary, and unknown
// words kept as marked chips with the closest known words offered (never silently dropped).
import { LitElement, html, css, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { promptWords, suggestWords } from '../model/labels.ts';
import { emitSettings } from './events.ts';
import { completions } from './completions.ts';

@customElement('prompt-box')
export class PromptBox extends LitElement {
  static override styles = css`
    :host { display: block; position: relative; }
    .box { display: flex; flex-wrap: wrap; gap: 0.25rem; align-items: center;
      border: 1px solid #999; border-radius: 6px; padding: 0.25rem; background: white; }
    .chip { display: inline-flex; align-items: center; gap: 0.2rem;
      background: #e3ecfa; border-radius: 1rem; padding: 0.1rem 0.5rem; }
    .chip.unknown { background: #fdecee; outline: 1px solid #b00020; }
    .chip button { border: 0; background: none; cursor: pointer; padding: 0; }
    input { flex: 1; min-width: 8rem; border: 0; outline: none; font: inherit; padding: 0.2rem; }
    ul { position: absolute; z-index: 2; list-style: none; margin: 0;
      padding: 0; background: white; border: 1px solid #999; min-width: 10rem; }
    li { padding: 0.2rem 0.5rem; cursor: pointer; }
    li[aria-selected='true'] { background: #1565c0; color: white; }
    .msg { margin: 0.25rem 0 0; color: #b00020; font-size: 0.9rem; }
    .hint { margin: 0.25rem 0 0; color: #666; font-size: 0.85rem; }
    .msg button { margin-left: 0.25rem; }
  `;

  @property({ type: Array }) vocab: string[] = [];
  @property({ type: Array }) stopWords: string[] = [];
  @property() value = '';
  @property({ type: Boolean }) disabled = false;
  @state() private draft = '';
  @state() private active = 0;
  @state() private ignored: string[] = [];

  private get words(): string[] {
    return promptWords(this.value);
  }

  private setWords(words: string[]) {
    emitSettings(this, { prompt: words.join(' ') });
  }

  /** Adds typed words; stop words are not chips (the model drops them too), and the page says so. */
  private commit(text: string) {
    const stop = new Set(this.stopWords);
    const all = promptWords(text);
    this.ignored = all.filter((w) => stop.has(w));
    const add = all.filter((w) => !stop.has(w) && !this.words.includes(w));
    if (add.length) this.setWords([...this.words, ...add]);
    this.draft = '';
    this.active = 0;
  }

  private onInput(e: Event) {
    const text = (e.target as HTMLInputElement).value;
    const cut = Math.max(text.lastIndexOf(' '), text.lastIndexOf(','));
    if (cut >= 0) this.commit(text.slice(0, cut));
    this.draft = text.slice(cut + 1);
    this.active = 0;
  }

  private onKey(e: KeyboardEvent) {
    const list = completions(this.draft, this.vocab);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.length) this.active = (this.active + (e.key === 'ArrowDown' ? 1 : list.length - 1)) % list.length;
    } else if ((e.key === 'Enter' || e.key === 'Tab') && this.draft) {
      if (e.key === 'Tab' && !list.length) return;
      e.preventDefault();
      this.commit(list[this.active] ?? this.draft);
    } else if (e.key === 'Backspace' && !this.draft && this.words.length) {
      this.setWords(this.words.slice(0, -1));
    } else if (e.key === 'Escape') {
      this.draft = '';
    }
  }

  private replace(word: string, by: string | null) {
    const words = this.words.map((w) => (w === word ? by : w)).filter((w): w is string => !!w);
    this.setWords([...new Set(words)]);
  }

  override render() {
    const known = new Set(this.vocab), words = this.words;
    const unknown = words.filter((w) => !known.has(w));
    const list = completions(this.draft, this.vocab);
    const chip = (w: string) => html`<span class="chip ${known.has(w) ? '' : 'unknown'}" data-testid="chip"
      data-word=${w}>${w}
      <button type="button" aria-label="Remove ${w}" ?disabled=${this.disabled}
        @click=${() => this.replace(w, null)}>×</button></span>`;
    const option = (w: string, i: number) => html`
        <li role="option" aria-selected=${i === this.active}
          @mousedown=${(e: Event) => { e.preventDefault(); this.commit(w); }}>${w}</li>`;
    const suggestion = (w: string, s: string) =>
      html`<button type="button" data-testid="suggestion" @click=${() => this.replace(w, s)}>${s}</button>`;
    const ignored = this.ignored.map((w) => `“${w}”`).join(', ');
    return html`
      <div class="box">
        ${words.map(chip)}
        <input data-testid="prompt-input" aria-label="Prompt words"
          placeholder=${words.length ? '' : 'Describe it: smiling cat, red heart…'}
          .value=${this.draft} ?disabled=${this.disabled} autocomplete="off" role="combobox"
          aria-expanded=${list.length > 0}
          @input=${this.onInput} @keydown=${this.onKey} @blur=${() => this.draft && this.commit(this.draft)} />
      </div>
      ${list.length ? html`<ul role="listbox" data-testid="completions">${list.map(option)}</ul>` : nothing}
      ${unknown.map((w) => {
        const sug = suggestWords(w, this.vocab);
        return html`<p class="msg" role="alert" data-testid="unknown-word">The model does not know “${w}”.
          ${sug.length ? html`Did you mean${sug.map((s) => suggestion(w, s))}?` : 'No close word in its vocabulary.'}
          <button type="button" @click=${() => this.replace(w, null)}>Remove it</button></p>`;
      })}
      ${this.ignored.length
        ? html`<p class="hint">${ignored} ignored: too common to mean anything to the model.</p>` : nothing}
      <p class="hint">${this.vocab.length} words known: words from emoji names.</p>`;
  }
}

declare global {
  interface HTMLElementTagNameMap { 'prompt-box': PromptBox }
}
