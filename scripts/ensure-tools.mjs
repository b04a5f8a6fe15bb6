#!/usr/bin/env node
// The end-to-end tests check Handover's output with tools nobody here wrote:
// xmllint, unzip, zip, age and Chromium with CJK and emoji fonts (Debian packages), and moto_server (an S3
// endpoint on loopback). Install what is missing when we can (root with apt-get),
// otherwise say exactly what to install, instead of letting tests fail obscurely.
import { execFileSync, spawnSync } from 'node:child_process';

const tools = [
  { bin: 'xmllint', pkg: 'libxml2-utils' },
  { bin: 'unzip', pkg: 'unzip' },
  { bin: 'zip', pkg: 'zip' },
  { bin: 'age', pkg: 'age' },
  { bin: 'chromium', pkg: 'chromium' },
  // Without these fonts the browser test's screenshots show CJK and emoji as empty boxes.
  { bin: 'a CJK font', pkg: 'fonts-wqy-microhei', present: () => hasFont(':lang=ko') },
  { bin: 'an emoji font', pkg: 'fonts-noto-color-emoji', present: () => hasFont('Noto Color Emoji') },
];

function hasFont(pattern) {
  return spawnSync('sh', ['-c', `fc-list '${pattern}' | grep -q .`], { stdio: 'ignore' }).status === 0;
}
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = tools.filter((t) => !(t.present ? t.present() : has(t.bin)));
if (missing.length > 0) {
  const pkgs = missing.map((t) => t.pkg);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    console.error(`installing test tools: ${pkgs.join(' ')}`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`the tests need: ${missing.map((t) => t.bin).join(', ')}\ninstall them with: sudo apt-get install -y ${pkgs.join(' ')}`);
    process.exit(1);
  }
}
if (!has('moto_server')) {
  console.error('the S3 tests need moto_server (a local S3 endpoint): pip install "moto[server]"');
  process.exit(1);
}
