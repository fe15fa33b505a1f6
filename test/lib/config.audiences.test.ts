import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

describe('audience settings', () => {
  it('keeps exited memberships 30 days unless CDP_EXITED_MEMBERSHIP_RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).audiences.exitedMembershipRetentionDays).toBe(30);
    expect(loadConfig({ CDP_EXITED_MEMBERSHIP_RETENTION_DAYS: '90' }).audiences.exitedMembershipRetentionDays).toBe(90);
  });

  it('refuses a retention that is not a whole number of days', () => {
    for (const raw of ['0', '-3', '1.5', 'month']) {
      expect(() => loadConfig({ CDP_EXITED_MEMBERSHIP_RETENTION_DAYS: raw })).toThrow(ConfigError);
      expect(() => loadConfig({ CDP_EXITED_MEMBERSHIP_RETENTION_DAYS: raw })).toThrow(/CDP_EXITED_MEMBERSHIP_RETENTION_DAYS/);
    }
  });
});
