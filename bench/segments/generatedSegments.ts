/**
 * The benchmark's segments: generated trees (lib/fixtures/segmentExpressions.ts),
 * printed as text and stored as the segment service would store them, one in ten an
 * account audience, each free to use `inSegment` on the segments made before it.
 */
import type { Db } from 'mongodb';
import { createRandom, generateExpr } from '../../lib/fixtures/segmentExpressions.js';
import { compileSegment, printSegment, type TargetEntity } from '../../subgraphs/segment/language/index.js';
import { SegmentsRepository } from '../../subgraphs/segment/segments.repository.js';

export interface GeneratedSegment {
  id: string;
  targetEntity: TargetEntity;
  expression: string;
  dependsOn: string[];
}

export function generateSegments(count: number, seed: number, now: Date): GeneratedSegment[] {
  const random = createRandom(seed);
  const made: GeneratedSegment[] = [];
  const ids = (target: TargetEntity) => made.filter((segment) => segment.targetEntity === target).map((segment) => segment.id);
  for (let index = 0; index < count; index++) {
    const targetEntity: TargetEntity = index % 10 === 9 ? 'ACCOUNT' : 'PERSON';
    const id = `seg_bench_${String(index).padStart(3, '0')}`;
    const expr = generateExpr(random, targetEntity, { now, maxDepth: 3, segmentIds: { PERSON: ids('PERSON'), ACCOUNT: ids('ACCOUNT') } });
    const expression = printSegment(expr);
    const targets = new Map(made.map((segment) => [segment.id, segment.targetEntity]));
    const { dependsOn } = compileSegment(expression, { target: targetEntity, segmentTarget: (other) => targets.get(other) });
    made.push({ id, targetEntity, expression, dependsOn });
  }
  return made;
}

export async function storeSegments(db: Db, segments: readonly GeneratedSegment[], at: Date): Promise<void> {
  const repository = new SegmentsRepository(db);
  for (const segment of segments) {
    await repository.insert({ ...segment, name: segment.id, description: null, createdAt: at, updatedAt: at });
  }
}
