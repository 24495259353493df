// Forms whose fields are named by the API parameter they fill. An API error is shown next to
// the field it concerns (or above the form); what the user typed is never cleared on error.
import { h } from './dom.js';
import { fieldForError } from './field_errors.js';

// field: {param, label, type: 'text'|'number'|'select'|'checkbox'|'textarea', options:
// [[value, label]], value, placeholder, help, required}
function control(field) {
  const id = `field-${field.param.replace(/\./g, '-')}`;
  const common = { id, name: field.param, 'data-param': field.param,
                   'aria-describedby': `${id}-error` };
  if (field.type === 'select') {
    // options: [value, label] pairs, or {group, options} for an <optgroup>.
    const option = ([value, label]) =>
      h('option', { value, selected: String(field.value ?? '') === String(value) }, label);
    return h('select', common, (field.options || []).map((o) => (Array.isArray(o) ? option(o)
      : h('optgroup', { label: o.group }, o.options.map(option)))));
  }
  if (field.type === 'checkbox') {
    return h('input', { ...common, type: 'checkbox', checked: Boolean(field.value) });
  }
  if (field.type === 'textarea') return h('textarea', { ...common, value: field.value ?? '' });
  return h('input', { ...common, type: field.type === 'number' ? 'text' : 'text',
                      inputmode: field.type === 'number' ? 'numeric' : undefined,
                      value: field.value ?? '', placeholder: field.placeholder,
                      autocomplete: 'off' });
}

export class ApiForm {
  // fields: as above; extra: more elements inside the form (e.g. a tag editor) whose
  // data-param names also take errors.
  constructor({ fields, submitLabel, onSubmit, extra = [] }) {
    this.fields = fields;
    this.onSubmit = onSubmit;
    this.banner = h('div', { class: 'form-error', role: 'alert', hidden: true });
    this.rows = fields.map((field) => h('div', { class: 'field', 'data-field': field.param },
      h('label', { for: `field-${field.param.replace(/\./g, '-')}` }, field.label,
        field.required ? h('span', { class: 'required' }, ' *') : null),
      control(field),
      field.help ? h('div', { class: 'help' }, field.help) : null,
      h('div', { class: 'field-error', id: `field-${field.param.replace(/\./g, '-')}-error`,
                 hidden: true })));
    this.submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    this.element = h('form', { class: 'api-form', novalidate: true,
                               onsubmit: (e) => { e.preventDefault(); this.run(); } },
      this.banner, this.rows, extra, h('div', { class: 'actions' }, this.submit));
  }

  // The typed values by parameter name (checkboxes as booleans).
  values() {
    const out = {};
    for (const input of this.element.querySelectorAll('[data-param]')) {
      if (!('value' in input)) continue;
      out[input.dataset.param] = input.type === 'checkbox' ? input.checked : input.value.trim();
    }
    return out;
  }

  clearErrors() {
    this.banner.hidden = true;
    for (const e of this.element.querySelectorAll('.field-error')) {
      e.hidden = true;
      e.textContent = '';
    }
    for (const e of this.element.querySelectorAll('.invalid')) e.classList.remove('invalid');
  }

  showError(error) {
    const params = [...this.element.querySelectorAll('[data-field]')].map((e) => e.dataset.field);
    const field = fieldForError(error, params);
    const row = field && this.element.querySelector(`[data-field="${field}"]`);
    const slot = row && row.querySelector('.field-error');
    if (slot) {
      slot.textContent = `${error.message} (${error.code})`;
      slot.hidden = false;
      row.classList.add('invalid');
      row.querySelector('[data-param]')?.focus();
    } else {
      this.banner.textContent = `${error.code}: ${error.message}`;
      this.banner.hidden = false;
    }
  }

  async run() {
    this.clearErrors();
    this.submit.disabled = true;
    try {
      await this.onSubmit(this.values());
    } catch (error) {
      this.showError(error);
    } finally {
      this.submit.disabled = false;
    }
  }
}
