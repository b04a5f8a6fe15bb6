import type { Store } from '@handover/core';
import { readJsonObject, writeJsonObject } from '../json-object.js';
import { journalKey, journalSchema, type OffboardingJournal } from './journal.js';

/** The member's offboarding journal, or undefined when none was started. */
export async function readOffboardingJournal(store: Store, subjectRef: string): Promise<OffboardingJournal | undefined> {
  return readJsonObject(store, journalKey(subjectRef), journalSchema, 'offboarding journal');
}

/**
 * Writes the journal. `create` makes the first write create-only, so two runs starting the
 * same offboarding at once cannot both believe they started it (the loser gets E_EXISTS).
 */
export async function writeOffboardingJournal(store: Store, journal: OffboardingJournal, options: { create?: boolean } = {}): Promise<void> {
  await writeJsonObject(store, journalKey(journal.subjectRef), journal, { create: options.create ?? false });
}
