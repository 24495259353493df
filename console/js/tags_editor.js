// Key/value rows for tags. As part of a form it takes errors about tags (data-field="Tags");
// on a resource's page it saves with CreateTags/DeleteTags.
import { h } from './dom.js';

export class TagsEditor {
  constructor(tags = []) {
    this.list = h('div', { class: 'tag-rows' });
    this.element = h('fieldset', { class: 'tags field', 'data-field': 'Tags' },
      h('legend', {}, 'Tags'), this.list,
      h('button', { type: 'button', class: 'add-tag', onclick: () => this.addRow('', '') },
        'Add tag'),
      h('div', { class: 'field-error', hidden: true }));
    for (const tag of tags) this.addRow(tag.key, tag.value);
  }

  addRow(key, value) {
    const row = h('div', { class: 'tag-row' },
      h('input', { class: 'tag-key', placeholder: 'Key', value: key, 'aria-label': 'Tag key' }),
      h('input', { class: 'tag-value', placeholder: 'Value', value,
                   'aria-label': 'Tag value' }),
      h('button', { type: 'button', class: 'remove-tag', onclick: () => row.remove() },
        'Remove'));
    this.list.append(row);
  }

  // [{Key, Value}] of the rows with a key.
  tags() {
    return [...this.list.querySelectorAll('.tag-row')]
      .map((row) => ({ Key: row.querySelector('.tag-key').value.trim(),
                       Value: row.querySelector('.tag-value').value }))
      .filter((t) => t.Key !== '');
  }
}

// Saves a resource's tags: CreateTags for new or changed keys, DeleteTags for removed ones.
export async function saveTags(client, resourceId, before, after) {
  const old = Object.fromEntries((before || []).map((t) => [t.key, t.value]));
  const changed = after.filter((t) => old[t.Key] !== t.Value);
  const kept = new Set(after.map((t) => t.Key));
  const removed = Object.keys(old).filter((k) => !kept.has(k));
  if (removed.length > 0) {
    await client.call('DeleteTags', { ResourceId: [resourceId],
                                      Tag: removed.map((k) => ({ Key: k })) });
  }
  if (changed.length > 0) {
    await client.call('CreateTags', { ResourceId: [resourceId], Tag: changed });
  }
}

// TagSpecification for a Create* call: the Name (if any) first, then the editor's tags.
export function tagSpecification(resourceType, name, tags) {
  const all = [...(name ? [{ Key: 'Name', Value: name }] : []),
               ...tags.filter((t) => !(name && t.Key === 'Name'))];
  return all.length ? [{ ResourceType: resourceType, Tag: all }] : undefined;
}
