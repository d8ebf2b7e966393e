import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { readJourneyStanding, type JourneyStanding } from '../analytics/journey-report.js';
import { journeyToMermaid } from '../cli/journey-graph.js';
import type { Engine } from '../engine.js';
import type { Journey } from '../journey/define-journey.js';
import { JourneyNotFoundError } from '../journey/journey-catalog.js';
import { allStateNodes, statePath } from '../journey/machine-walk.js';
import { STAGES } from '../journey/stage.js';
import { readJourneyCounts } from '../store/journey-counts.js';
import { DASHBOARD_PATH, JOURNEY_PAGES_PATH } from './dashboard-paths.js';
import { wantsHtml } from './routes/html-page.js';

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const percent = (n: number | null) => (n === null ? '–' : `${(100 * n).toFixed(1)}%`);

// A word longer than the line (a link in a description, a long state name) breaks rather than
// widening the page.
const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2937;overflow-wrap:anywhere}h1{margin-bottom:.2rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #d1d5db;padding:.35rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}.bar{background:#0369a1;height:.8rem}.muted{color:#6b7280}
section{margin:2rem 0}a{color:#0369a1}`;

function page(at: string, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Chorus</title>
<link rel="icon" href="data:,"><style>${STYLE}</style></head><body><p><a href="${escape(at)}${DASHBOARD_PATH}">Queues</a> · <a href="${escape(at)}${JOURNEY_PAGES_PATH}">Journeys</a></p>${body}</body></html>`;
}

/**
 * What came of the journey's entries: conversions are counted on its goal, so a journey without
 * one says so rather than showing "0 reached the goal (0.0%)", read as a journey that fails.
 */
const outcome = (journey: Journey, report: JourneyStanding) =>
  journey.goal === undefined
    ? 'no goal set, so no conversion is counted <span class="muted">(give the journey a <code>goal</code> to count one)</span>'
    : `${report.converted} reached the goal (${percent(report.conversionRate)})`;

function funnelTable(report: JourneyStanding): string {
  const rows = STAGES.map((stage) => {
    const reached = report.funnel[stage] ?? 0;
    const share = report.entered === 0 ? 0 : reached / report.entered;
    return `<tr><td>${stage}</td><td>${reached}</td><td>${percent(report.entered === 0 ? null : share)}</td>
<td style="width:16rem;text-align:left"><div class="bar" style="width:${(100 * share).toFixed(1)}%"></div></td></tr>`;
  }).join('');
  return `<table id="funnel"><tr><th>stage</th><th>customers</th><th>of entered</th><th></th></tr>${rows}</table>`;
}

/** A test's p-value: the exact test's when the groups are too small for the z-test's to hold. */
const pValueCell = (test: { pValue: number; exactPValue: number | null }) =>
  test.exactPValue === null
    ? test.pValue.toFixed(4)
    : `${test.exactPValue.toFixed(4)} <span class="muted" title="Fisher's exact test: too few conversions or non-conversions for the z-test">(exact)</span>`;

function experimentTable(report: JourneyStanding): string {
  if (report.experiments.length === 0) return '<p class="muted">This journey has no split.</p>';
  return report.experiments
    .map(({ split, control, report: result }) => {
      const rows = result.variants
        .map((v) => {
          const test = v.vsControl;
          return `<tr><td>${escape(v.variant)}${v.control ? ' (control)' : ''}${v.holdout ? ' (holdout)' : ''}</td>
<td>${v.entered}</td><td>${v.converted}</td><td>${percent(v.rate)}</td>
<td>${test?.relativeLift == null ? '–' : percent(test.relativeLift)}</td>
<td>${test ? pValueCell(test) : '–'}</td>
<td>${test ? `${percent(test.confidenceInterval.lower)} to ${percent(test.confidenceInterval.upper)}` : '–'}</td></tr>`;
        })
        .join('');
      const lift = result.journeyLift
        ? `<p>Journey against holdout: lift ${percent(result.journeyLift.relativeLift)}, p = ${pValueCell(result.journeyLift)}</p>`
        : '';
      return `<h3>Split ${escape(split)} <span class="muted">(control: ${escape(control)})</span></h3>
<table class="experiment"><tr><th>arm</th><th>entered</th><th>converted</th><th>rate</th><th>lift</th><th>p-value</th><th>95% CI of difference</th></tr>${rows}</table>${lift}`;
    })
    .join('');
}

/**
 * Pages for people who would rather look than read JSON: each journey's state diagram with the
 * customers in every state now, its stage funnel and its experiments. Registered inside the
 * dashboard's scope, so the same basic auth guards it.
 */
export const journeyPages: FastifyPluginAsync<{
  engine: Engine;
  /** Where a proxy serves the app, before the pages' own paths in their links: see DashboardOptions. */
  pathPrefix: string;
}> = async (app, { engine, pathPrefix }) => {
  const at = escape(pathPrefix);
  const require = createRequire(import.meta.url);
  const mermaidPath = require.resolve('mermaid/dist/mermaid.min.js');

  app.get(`${JOURNEY_PAGES_PATH}/mermaid.js`, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'max-age=86400')
      .send(await readFile(mermaidPath)),
  );

  /** The page a browser gets for a journey page that is not there, leading back to the list. */
  const notFound = (reply: FastifyReply, what: string, code: string) =>
    reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(
        page(
          pathPrefix,
          'No such journey',
          `<h1>No such journey</h1><p>${what}</p>` +
            `<p><a href="${at}${JOURNEY_PAGES_PATH}">The journeys that are</a></p><p class="muted">${code}</p>`,
        ),
      );

  // A path deeper than a journey's (`/admin/journeys/onboarding/`, a link cut or pasted with more):
  // a browser gets the same page as for an unknown journey, a script the API's JSON 404.
  app.get(`${JOURNEY_PAGES_PATH}/*`, { schema: { hide: true } }, async (request, reply) => {
    if (!wantsHtml(request.headers)) return reply.callNotFound();
    const path = request.url.split('?')[0] ?? '';
    return notFound(reply, `No journey page at ${escape(path)}.`, 'CHORUS_NOT_FOUND');
  });

  app.get(JOURNEY_PAGES_PATH, { schema: { hide: true } }, async (_request, reply) => {
    const items = engine.catalog
      .list()
      .map(
        (j) =>
          `<li><a href="${at}${JOURNEY_PAGES_PATH}/${escape(encodeURIComponent(j.id))}">${escape(j.id)}</a> v${j.version}${j.description ? ` — ${escape(j.description)}` : ''}</li>`,
      )
      .join('');
    // An engine may start with none (an empty or misnamed JOURNEYS_DIR): an empty list read as a page that failed.
    const unloaded = await notLoadedItems(engine);
    const list =
      items === '' && unloaded === ''
        ? '<p>No journey is loaded. The engine runs the journeys exported by the modules of its journeys folder ' +
          '(<code>JOURNEYS_DIR</code>, <code>journeys/</code> by default); <code>npm run chorus -- validate</code> lists what it finds there.</p>'
        : `${items === '' ? '<p>No journey is loaded.</p>' : `<ul>${items}</ul>`}${unloaded}`;
    return reply
      .type('text/html; charset=utf-8')
      .send(page(pathPrefix, 'Journeys', `<h1>Journeys</h1>${list}`));
  });

  app.get<{ Params: { id: string } }>(
    `${JOURNEY_PAGES_PATH}/:id`,
    { schema: { hide: true } },
    async (request, reply) => {
      let journey: Journey;
      try {
        journey = engine.catalog.latest(request.params.id);
      } catch (error) {
        // A person in a browser gets a page that leads back to the list; a script, the API's JSON error.
        if (!(error instanceof JourneyNotFoundError) || !wantsHtml(request.headers)) throw error;
        return notFound(reply, `No journey "${escape(request.params.id)}" is loaded.`, error.code);
      }
      // The counters alone: the page shows no period's figures, and a report's attribution reads
      // the message lists of up to 2,000 converted customers on every view.
      const report = await readJourneyStanding(engine.store.redis, engine.prefix, journey);
      const diagram = journeyToMermaid(journey, { counts: report.states });
      // The diagram is the latest version's: customers still in a state only another version has
      // (an older one, still running them) would otherwise be counted on the page but shown nowhere.
      const drawn = new Set(allStateNodes(journey.machine).map(statePath));
      const undrawn = Object.entries(report.states).filter(([state, n]) => n > 0 && !drawn.has(state));
      const undrawnNote =
        undrawn.length === 0
          ? ''
          : `<p id="other-versions">Also in states only other versions have (not drawn): ${undrawn
              .map(([state, n]) => `${escape(state)} ${n}`)
              .join(
                ', ',
              )}. <span class="muted">Keep those versions loaded until their customers finish; <code>GET ${at}/v1/journeys/${escape(journey.id)}</code> names them.</span></p>`;
      const body = `<h1>${escape(journey.id)} <span class="muted">v${journey.version}</span></h1>
<p class="muted">${escape(journey.description ?? '')}</p>
<p>${report.entered} entered · ${outcome(journey, report)}</p>
<section><h2>States now</h2><pre class="mermaid" id="diagram">${escape(diagram)}</pre>${undrawnNote}</section>
<section><h2>Funnel by stage</h2>${funnelTable(report)}</section>
<section><h2>Experiments</h2>${experimentTable(report)}</section>
<p class="muted">Full figures: <code>GET ${at}/v1/journeys/${escape(journey.id)}/report</code></p>
<script src="${at}${JOURNEY_PAGES_PATH}/mermaid.js"></script>
<script>mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
mermaid.run({ querySelector: '#diagram' }).then(() => document.body.dataset.rendered = 'yes');</script>`;
      return reply.type('text/html; charset=utf-8').send(page(pathPrefix, journey.id, body));
    },
  );
};

/**
 * The journeys this process does not load that customers are still active in (removed from the
 * code, or added by a newer release), as a section of the list: an empty string when there are none.
 */
async function notLoadedItems(engine: Engine): Promise<string> {
  const absences = await engine.loadedJourneys.notLoaded();
  const rows = await Promise.all(
    absences.map(async (absence) => {
      const versions = await readJourneyCounts(engine.store.redis, engine.prefix, absence.journeyId);
      const active = versions.reduce((n, v) => n + v.active, 0);
      if (active === 0) return '';
      const since = absence.lastLoad
        ? `last loaded by a process at ${new Date(absence.lastLoad.at).toISOString()}`
        : absence.missingSince === undefined
          ? ''
          : `never recorded as loaded; first missed at ${new Date(absence.missingSince).toISOString()}`;
      return `<li>${escape(absence.journeyId)} — ${active} customer${active === 1 ? '' : 's'} still in it${since ? ` <span class="muted">(${since})</span>` : ''}</li>`;
    }),
  );
  const items = rows.join('');
  return items === ''
    ? ''
    : `<section id="not-loaded"><h2>Not loaded here, customers still in them</h2><ul>${items}</ul>` +
        '<p class="muted">Removed from <code>journeys/</code>, or added by a newer release than this process. ' +
        'Once no process has loaded one for an hour, its customers leave it (exit reason <code>journey-removed</code>) at their next event or timer.</p></section>';
}
