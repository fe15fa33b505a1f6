/** Pure rules: identity normalisation, source keys, the merged view and the identity cap. */
import { describe, expect, it } from 'vitest';
import { identityKey, normaliseEmail, normaliseIdentity } from '../../lib/identity/namespaces.js';
import { formatSourceKey, isSourceKey, parseSourceKey } from '../../lib/identity/sourceKey.js';
import { normalisePerson } from '../../subgraphs/profile/personInput.js';
import { buildProfile, DEFAULT_MERGE_POLICY, profileIdentities, type Fragment } from '../../subgraphs/profile/profileView.js';

const at = (day: number) => new Date(Date.UTC(2026, 0, day));
const fragment = (id: string, sourceKey: string | undefined, values: Array<[string, unknown, number]>, day = 1): Fragment => ({
  id,
  profileId: 'prof_1',
  sourceKey,
  identities: [{ namespace: 'b2b_person', value: id, addedAt: at(day) }],
  values: values.map(([path, value, valueDay]) => ({ path, value: value as never, at: at(valueDay) })),
  createdAt: at(day),
  updatedAt: at(day),
});

describe('identities and source keys', () => {
  it('trims and lowercases emails, trims other values, and refuses bad ones', () => {
    expect(normaliseEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(normaliseIdentity({ namespace: 'ECID', value: ' abc ' })).toEqual({ namespace: 'ECID', value: 'abc' });
    expect(() => normaliseEmail('ada@')).toThrow(/Invalid email/);
    expect(identityKey({ namespace: 'Email', value: 'a@b.co' })).toBe('Email:a@b.co');
  });

  it('formats and parses source keys; two instances never collide', () => {
    const key = formatSourceKey({ sourceId: '1234', instanceId: '123-ABC-456', sourceType: 'Marketo' });
    expect(key).toBe('1234@123-ABC-456.Marketo');
    expect(parseSourceKey('00Q5e00000AbCdE@00D5e000001XyZ.Salesforce')).toEqual({ sourceId: '00Q5e00000AbCdE', instanceId: '00D5e000001XyZ', sourceType: 'Salesforce' });
    expect(isSourceKey('1234@123-ABC-456')).toBe(false);
    expect(formatSourceKey({ sourceId: '1', instanceId: 'A', sourceType: 'Marketo' })).not.toBe(formatSourceKey({ sourceId: '1', instanceId: 'B', sourceType: 'Marketo' }));
  });

  it('a person record: its source key is its first identity and keys its fragment', () => {
    const record = normalisePerson({ sourceKey: '7@i.Marketo', workEmail: 'A@B.co', identities: [{ namespace: 'ecid', value: 'e' }] }, at(1));
    expect(record.fragmentId).toBe('b2b_person:7@i.Marketo');
    expect(record.identities.map(identityKey)).toEqual(['b2b_person:7@i.Marketo', 'ECID:e', 'Email:a@b.co']);
  });
});

describe('merged view', () => {
  it('timestamp-ordered: per field the latest value wins; source priority: the listed source first', () => {
    const marketo = fragment('1@m.Marketo', '1@m.Marketo', [['jobTitle', 'CEO', 20], ['firstName', 'Ada', 1]]);
    const salesforce = fragment('1@o.Salesforce', '1@o.Salesforce', [['jobTitle', 'CFO', 10], ['attributes.tier', 'gold', 10]]);
    const base = { id: 'prof_1', absorbedIds: [], createdAt: at(1), updatedAt: at(1) };
    expect(buildProfile(base, [marketo, salesforce], DEFAULT_MERGE_POLICY)).toMatchObject({ jobTitle: 'CEO', firstName: 'Ada', attributes: { tier: 'gold' } });
    const priority = { kind: 'SOURCE_PRIORITY' as const, sourcePriority: ['Salesforce'], updatedAt: null, version: 1 };
    expect(buildProfile(base, [marketo, salesforce], priority)).toMatchObject({ jobTitle: 'CFO', firstName: 'Ada' });
  });

  it('keeps the 50 newest identities', () => {
    const many: Fragment = { ...fragment('x', undefined, []), identities: Array.from({ length: 53 }, (_, i) => ({ namespace: 'ECID', value: `e${i}`, addedAt: at(1 + i) })) };
    const { kept, dropped } = profileIdentities([many]);
    expect(kept).toHaveLength(50);
    expect(dropped).toEqual(['ECID:e0', 'ECID:e1', 'ECID:e2']);
  });
});
