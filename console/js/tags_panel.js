// A resource's tags, editable in place: CreateTags/DeleteTags on Save.
import { h } from './dom.js';
import { errorSlot, panel } from './page_parts.js';
import { saveTags, TagsEditor } from './tags_editor.js';

export function tagsPanel(client, resourceId, tagSet) {
  let saved = tagSet || [];
  const editor = new TagsEditor(saved);
  const error = errorSlot();
  const done = h('span', { class: 'notice', hidden: true }, 'Tags saved.');
  return panel(h('h2', { class: 'section' }, 'Tags'), error, editor.element,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary save-tags',
      onclick: async () => {
        error.hidden = true;
        done.hidden = true;
        try {
          const after = editor.tags();
          await saveTags(client, resourceId, saved, after);
          saved = after.map((t) => ({ key: t.Key, value: t.Value }));
          done.hidden = false;
        } catch (e) {
          error.textContent = `${e.code}: ${e.message}`;
          error.hidden = false;
        }
      } }, 'Save tags'), ' ', done));
}
