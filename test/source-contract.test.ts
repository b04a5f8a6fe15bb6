import { fileURLToPath } from 'node:url';
import { createDemoSource, createMattermostSource, createSlackSource } from '@handover/exporter';
import { describeSourceContract } from './support/source-contract.js';

// Every source adapter runs the same suite: what the exporter relies on, whatever the platform.
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

describeSourceContract('demo', { make: () => createDemoSource({ messages: 5_000, attachmentBytes: 2_000_000 }), member: 'alice', fileBytes: true, grants: true });
describeSourceContract('slack', { make: () => createSlackSource({ path: `${FIXTURES}slack/export` }), member: 'alice', fileBytes: false, grants: true });
describeSourceContract('mattermost', { make: () => createMattermostSource({ path: `${FIXTURES}mattermost/export/export.jsonl` }), member: 'alice', fileBytes: true, grants: false });
