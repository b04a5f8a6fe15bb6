import { conversationDirName, fileEntryName, safeFileName } from './entry-names.js';

const SAFE = /^[A-Za-z0-9._-]+$/;

describe('safe entry names', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['/abs/path', 'path'],
    ['C:\\x', 'x'],
    ['CON.txt', '_CON.txt'],
    ['nul', '_nul'],
    ['', 'file'],
    ['..', 'file'],
    ['.bashrc', 'bashrc'],
    ['résumé 履歴書.txt', 'resume_.txt'],
  ])('%j becomes %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('bounds long names and keeps the extension', () => {
    const name = safeFileName('a'.repeat(300) + '.pdf');
    expect(name.length).toBeLessThanOrEqual(100);
    expect(name.endsWith('.pdf')).toBe(true);
  });

  it('gives duplicates distinct entries under files/', () => {
    const a = fileEntryName(1, 'report.pdf');
    const b = fileEntryName(2, 'report.pdf');
    expect(a).not.toBe(b);
    for (const n of [a, b]) expect(n.split('/').every((seg) => SAFE.test(seg) && seg !== '..')).toBe(true);
  });

  it('names conversation folders by sequence and slug', () => {
    expect(conversationDirName(3, '#general')).toBe('0003-general');
    expect(conversationDirName(12, undefined)).toBe('0012');
    expect(conversationDirName(1, '你好')).toBe('0001');
  });
});
