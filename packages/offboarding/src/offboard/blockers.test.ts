import type { Blocker, BlockerCode } from '@handover/exporter';
import { decideBlockers, legalHoldBlockers } from './blockers.js';
import { hasVerifiedArchive, markStepDone, newJournal, nextStep, rejectArchive } from './journal.js';

const b = (code: BlockerCode): Blocker => ({ code, message: code, legal: code === 'legal-hold' });
const codes = (bs: readonly Blocker[]) => bs.map((x) => x.code);

describe('decideBlockers', () => {
  it('proceeds with none, or with only blockers the offboarding removes itself', () => {
    expect(decideBlockers([], { force: false })).toEqual({ proceed: true, legal: [], refusing: [], overridden: [], handled: [] });
    const d = decideBlockers([b('active-grants')], { force: false });
    expect(d.proceed).toBe(true);
    expect(codes(d.handled)).toEqual(['active-grants']);
  });

  it('refuses operational blockers unless forced, and records what force overrode', () => {
    const list = [b('sole-owner'), b('pending-tasks'), b('active-grants')];
    const refused = decideBlockers(list, { force: false });
    expect(refused.proceed).toBe(false);
    expect(codes(refused.refusing)).toEqual(['sole-owner', 'pending-tasks']);
    const forced = decideBlockers(list, { force: true });
    expect(forced.proceed).toBe(true);
    expect(codes(forced.overridden)).toEqual(['sole-owner', 'pending-tasks']);
  });

  it('never proceeds past a legal blocker, forced or not', () => {
    for (const force of [false, true]) {
      const d = decideBlockers([b('pending-approvals'), b('legal-hold')], { force });
      expect(d.proceed).toBe(false);
      expect(codes(d.legal)).toEqual(['legal-hold']);
      expect(d.overridden).toEqual([]);
    }
    // A source may flag its own blocker as legal: that is honoured too.
    expect(decideBlockers([{ ...b('pending-tasks'), legal: true }], { force: true }).proceed).toBe(false);
  });

  it('describes each hold in one sentence', () => {
    const [blocker] = legalHoldBlockers('zoe', [
      { id: 'hold-1', scope: { subjectRef: 'r' }, reason: 'Case 9', actor: 'legal', createdAt: '2026-01-02T03:04:05.000Z', releaseApprovals: [] },
    ]);
    expect(blocker).toMatchObject({ code: 'legal-hold', legal: true, details: { holdId: 'hold-1' } });
    expect(blocker!.message).toBe(
      "'zoe' is under legal hold hold-1 (Case 9), placed by legal on 2026-01-02: nothing of theirs may be erased until two people release the hold; --force does not override it.",
    );
  });
});

describe('offboarding journal', () => {
  const start = () => newJournal({ subjectRef: 'r', sourceName: 'demo', reason: 'x', actor: 'a', now: new Date(0) });

  it('completes steps strictly in order', () => {
    let j = start();
    expect(nextStep(j)).toBe('check-blockers');
    expect(() => markStepDone(j, 'erase', new Date(1), 'a')).toThrow(/next step is 'check-blockers'/);
    j = markStepDone(j, 'check-blockers', new Date(1), 'a');
    expect(nextStep(j)).toBe('export');
  });

  it('allows erasure only with a verified archive; a rejected archive takes export and verify back', () => {
    let j = markStepDone(start(), 'check-blockers', new Date(1), 'a');
    j = markStepDone({ ...j, archive: { key: 'k', exportedAt: new Date(2).toISOString() } }, 'export', new Date(2), 'a');
    expect(hasVerifiedArchive(j)).toBe(false);
    const rejected = rejectArchive(j, ['bad crc'], new Date(3));
    expect(nextStep(rejected)).toBe('export');
    expect(rejected.rejectedArchives).toEqual([{ key: 'k', at: new Date(3).toISOString(), problems: ['bad crc'] }]);
    j = markStepDone({ ...j, archive: { ...j.archive!, verifiedAt: new Date(4).toISOString() } }, 'verify', new Date(4), 'a');
    expect(hasVerifiedArchive(j)).toBe(true);
  });
});
