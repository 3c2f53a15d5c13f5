// The one event that carries a settings change up to the app shell.
import type { Settings } from './settings.ts';

export type SettingsPatch = Partial<Settings>;

export function emitSettings(from: HTMLElement, patch: SettingsPatch): void {
  const detail = { detail: patch, bubbles: true, composed: true };
  from.dispatchEvent(new CustomEvent<SettingsPatch>('settings-change', detail));
}
