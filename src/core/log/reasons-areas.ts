// The firm-defined tag tables: the communication log's reasons (why we talked) and areas (tax, labour,
// accounting...), and the documents' categories (a managed list; documents name one as text, so renaming or
// deleting one follows through to them). Plain CRUD; who may write is the route's business, not this module's.
import { kysely, type Em } from '../platform/db.ts';
import { Area, Reason } from './communication.entity.ts';
import { DocumentCategory } from '../documents/document.entity.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../platform/errors.ts';

export type TagKind = 'reason' | 'area' | 'category';
export type TagView = { id: string; name: string; active: boolean; createdAt: string };
type Tag = Reason | Area | DocumentCategory;

const entityOf = (kind: TagKind) => (kind === 'reason' ? Reason : kind === 'area' ? Area : DocumentCategory);
const label = (kind: TagKind) => (kind === 'reason' ? 'Reason' : kind === 'area' ? 'Area' : 'Category');

export const viewTag = (t: Tag): TagView => ({ id: t.id, name: t.name, active: t.active, createdAt: t.createdAt.toISOString() });

/** Alphabetical; inactive ones are kept for old records and listed only on request. */
export async function listTags(em: Em, kind: TagKind, opts: { includeInactive?: boolean } = {}): Promise<Tag[]> {
  const where = opts.includeInactive ? {} : { active: true };
  return (await em.find(entityOf(kind) as typeof Reason, where, { orderBy: { name: 'asc', id: 'asc' } })) as Tag[];
}

export async function getTag(em: Em, kind: TagKind, id: string): Promise<Tag> {
  const tag = (await em.findOne(entityOf(kind) as typeof Reason, { id })) as Tag | null;
  if (!tag) throw new NotFoundError(label(kind));
  return tag;
}

function cleanName(name: string): string {
  const clean = name.trim().replace(/\s+/gu, ' ');
  if (!clean) throw new InvalidInputError('invalid_input', 'name must not be blank', 'name');
  return clean;
}

async function assertNameFree(em: Em, kind: TagKind, name: string, exceptId?: string) {
  const clash = (await em.findOne(entityOf(kind) as typeof Reason, { name })) as Tag | null;
  if (clash && clash.id !== exceptId) throw new ConflictError('name_taken', `${label(kind)} "${name}" already exists`, 'name');
}

export async function createTag(em: Em, kind: TagKind, input: { name: string; active?: boolean }): Promise<Tag> {
  const name = cleanName(input.name);
  await assertNameFree(em, kind, name);
  return em.create(entityOf(kind) as typeof Reason, { name, active: input.active ?? true }) as Tag;
}

export async function updateTag(em: Em, kind: TagKind, id: string, patch: { name?: string; active?: boolean }): Promise<Tag> {
  const tag = await getTag(em, kind, id);
  if (patch.name !== undefined) {
    const name = cleanName(patch.name);
    await assertNameFree(em, kind, name, tag.id);
    // Documents carry the category's name: a rename follows through to them.
    if (kind === 'category' && name !== tag.name) {
      await kysely(em).updateTable('document').set({ category: name }).where('category', '=', tag.name).execute();
    }
    tag.name = name;
  }
  if (patch.active !== undefined) tag.active = patch.active;
  return tag;
}

/** Records tagged with it keep existing and lose the tag (foreign key ON DELETE SET NULL); documents lose the category. */
export async function deleteTag(em: Em, kind: TagKind, id: string): Promise<Tag> {
  const tag = await getTag(em, kind, id);
  if (kind === 'category') await kysely(em).updateTable('document').set({ category: null }).where('category', '=', tag.name).execute();
  em.remove(tag);
  return tag;
}
