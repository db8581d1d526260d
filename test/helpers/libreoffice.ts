/**
 * Whether LibreOffice runs here. Its tests are skipped without it unless
 * TROVE_TEST_REQUIRE_LIBREOFFICE is set (as CI sets it): then a missing LibreOffice fails them.
 */
import { spawnSync } from 'node:child_process';

export function libreOfficeForTests(): { present: boolean; program: string } {
  const program = process.env['TROVE_LIBREOFFICE_PATH'] ?? 'soffice';
  const probe = spawnSync('sh', ['-c', `command -v ${JSON.stringify(program)}`], { encoding: 'utf8' });
  const present = probe.status === 0;
  if (!present && process.env['TROVE_TEST_REQUIRE_LIBREOFFICE']) {
    throw new Error(`TROVE_TEST_REQUIRE_LIBREOFFICE is set but ${program} is not installed (apt-get install libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)`);
  }
  return { present, program };
}
