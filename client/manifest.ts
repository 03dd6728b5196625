// package.json's `contributes.configuration`, generated from the settings
// tables in shared/settings.ts (the single source of truth). The manifest
// test compares package.json with this; `npm run manifest` rewrites it.
// Run as a program (`node out/client/manifest.js --write`) it updates
// package.json in place; it does not touch anything else in the file.

import { CLIENT_SETTING_SPECS, SETTING_SPECS, type SettingSpec } from '../shared/settings';

export interface ConfigurationProperty {
  type: string;
  default: unknown;
  description: string;
  markdownDescription?: string;
  enum?: string[];
  scope: 'resource' | 'window';
  order: number;
  minimum?: number;
}

export function configurationProperty(spec: SettingSpec, order: number): ConfigurationProperty {
  return {
    type: spec.type,
    default: spec.default,
    description: spec.description,
    ...(spec.markdownDescription ? { markdownDescription: spec.markdownDescription } : {}),
    ...(spec.enum ? { enum: [...spec.enum] } : {}),
    scope: spec.scope ?? 'resource',
    order,
    ...(spec.type === 'number' ? { minimum: 1 } : {}),
  };
}

export function configurationContribution(): { title: string; properties: Record<string, ConfigurationProperty> } {
  const properties: Record<string, ConfigurationProperty> = {};
  [...SETTING_SPECS, ...CLIENT_SETTING_SPECS].forEach((spec, i) => {
    properties[spec.name] = configurationProperty(spec, i);
  });
  return { title: 'GFP Lens', properties };
}

if (require.main === module && process.argv.includes('--write')) {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const file = path.join(__dirname, '..', '..', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { contributes?: Record<string, unknown> };
  pkg.contributes = { ...(pkg.contributes ?? {}), configuration: configurationContribution() };
  fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  process.stdout.write(`wrote contributes.configuration to ${file}\n`);
}
