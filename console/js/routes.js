// Hash routes to page renderers: render(main, {client, params}) may return a cleanup function.
import { renderFilter, renderFilters, renderNewFilter } from './pages/filters.js';
import { renderInstance, renderInstances } from './pages/instances.js';
import { renderInterface, renderInterfaces, renderNewInterface } from './pages/interfaces.js';
import { renderMonitoring } from './pages/monitoring.js';
import { renderModifySession, renderNewSession, renderSession, renderSessions } from './pages/sessions.js';
import { renderNewTarget, renderTarget, renderTargets } from './pages/targets.js';

export const routes = [
  [/^\/instances$/, renderInstances],
  [/^\/instances\/(i-[0-9a-f]+)(?:\/(details|networking))?$/, renderInstance],
  [/^\/interfaces$/, renderInterfaces],
  [/^\/interfaces\/new$/, renderNewInterface],
  [/^\/interfaces\/(eni-[0-9a-f]+)$/, renderInterface],
  [/^\/targets$/, renderTargets],
  [/^\/targets\/new$/, renderNewTarget],
  [/^\/targets\/(tmt-[0-9a-f]+)$/, renderTarget],
  [/^\/filters$/, renderFilters],
  [/^\/filters\/new$/, renderNewFilter],
  [/^\/filters\/(tmf-[0-9a-f]+)$/, renderFilter],
  [/^\/sessions$/, renderSessions],
  [/^\/sessions\/new$/, renderNewSession],
  [/^\/sessions\/(tms-[0-9a-f]+)$/, renderSession],
  [/^\/sessions\/(tms-[0-9a-f]+)\/modify$/, renderModifySession],
  [/^\/monitoring$/, renderMonitoring],
];
