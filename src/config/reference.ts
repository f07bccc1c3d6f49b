import { envName } from './load.ts';
import type { SettingsDef } from './settings.ts';

/** A markdown table of a command's settings: flag, environment variable, default, meaning. */
export function settingsTable(settings: SettingsDef): string {
  const rows = ['| flag | environment | default | meaning |', '|---|---|---|---|'];
  for (const [key, def] of Object.entries(settings)) {
    const dflt = def.default === undefined ? '—' : `\`${def.default}\``;
    rows.push(
      `| \`--${key}\` | \`${envName(key)}\` | ${dflt} | ${def.help.replace(/\|/g, '\\|')} |`,
    );
  }
  return rows.join('\n');
}
