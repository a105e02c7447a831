import t from 'tap';
import { parseUnitEnvironment, unitProcessEnvironment, UNIT_FILE } from '../../bench/lib/unit-env.js';

t.test('Environment= lines are read as systemd reads them', async (t) => {
  const unit = [
    '[Service]',
    'Environment=A=1',
    '# Environment=COMMENTED=1',
    'Environment=B=2 C=x=y',
    'Environment="D=with space" E=',
    'Environment=A=3',
    'EnvironmentFile=-/etc/x.env',
  ].join('\n');
  t.same(parseUnitEnvironment(unit), { A: '3', B: '2', C: 'x=y', D: 'with space', E: '' });
});

t.test('the bench gets the shipped unit\'s process settings, not its paths', async (t) => {
  t.match(UNIT_FILE, /systemd\/ways-edge\.service$/);
  const env = unitProcessEnvironment();
  t.equal(env.MALLOC_MMAP_THRESHOLD_, '2097152');
  t.equal(env.NODE_ENV, 'production');
  t.notOk(Object.keys(env).some((k) => k.startsWith('WAYS_EDGE_')), 'no WAYS_EDGE_* (config and data paths)');
});
