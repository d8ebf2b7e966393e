/** What `chorus --help` and `chorus <command> --help` print. */
export const COMMAND_USAGE = {
  validate: `usage: chorus validate [--journeys <dir>] [--templates <dir>]

Loads every journey (JOURNEYS_DIR) and every core message (TEMPLATES_DIR) and reports every
problem the engine would refuse to start with: journey validation and template checks, alone and
against the journeys that send each message. Exits 1 when there is any problem.`,
  graph: `usage: chorus graph <journey>[@<version>] [--journeys <dir>]

Prints the journey as a Mermaid stateDiagram-v2: each state with its stage (and colour) and the
messages it sends, transitions labelled with their event, "after <delay>" or "always", guards and
sends. Paste it into any Mermaid renderer, or a \`\`\`mermaid block on GitHub.`,
  simulate: `usage: chorus simulate <journey>[@<version>] --events <file> [--until <duration>] [--html]
                       [--journeys <dir>] [--templates <dir>]

Dry-runs one customer through the journey on a fake clock: nothing is stored or sent. Prints each
transition with its time and every message rendered for the channel delivery would pick.

  --events <file>     JSON (- reads it from standard input): { "customer"?: "ada", "profile"?: { traits }, "start"?: ISO instant,
                      "events": [ { "at": "+2d" | "2d" | ISO, "type": "identify", "traits": {…} }
                                | { "at": …, "type": "track", "event": "Signed Up", "properties"?: {…} }
                                | { "at": …, "type": "trigger", "data"?: {…} } ] }
                      "+2d" is after the previous event, "2d" after the start. Without "start",
                      the run starts at the first event if it is an instant, else at
                      2026-01-01T00:00:00Z. A bare array is the events alone.
  --until <duration>  keep the clock running this long after the last event (e.g. 40d); default:
                      until no timer is pending (at most a year).
  --html              print the HTML of each email too.`,
  preview: `usage: chorus preview <message> --channel <channel> [--profile <file>] [--html] [--templates <dir>]

Renders one message for one customer and prints it. --profile is a file (- for standard input)
of a JSON object of traits (e.g. { "firstName": "Ada", "email": "ada@example.com" }); without it,
templates show their fallbacks. An email's HTML is written to OUTBOX_DIR/preview/<message>.html,
or printed with --html.`,
  'send-test': `usage: chorus send-test <message> --to <address> [--channel email] [--profile <file>] [--templates <dir>]

Renders the message and sends it for real to one address through the configured email channel:
SMTP_URL, or an .eml file in OUTBOX_DIR/email/ when it is unset. Prints where it went.`,
  repair: `usage: chorus repair [--force]

Rebuilds, from the customers themselves, the journey counts (recountJourneys: what the journeys
page and /v1/journeys show) and the phone index (rebuildPhoneIndex: how a text's STOP or START
finds its customers), under REDIS_PREFIX on REDIS_URL (or REDIS_CLUSTER_NODES), and prints what
was off. For after a crash on a Redis Cluster left a count or an index entry behind, or once
after upgrading from a version without the phone index. Both scan every customer.

Run it while the engine is quiet: a step counted while the recount runs may be lost from the
counts. It refuses (exit 1) while journey workers are connected to the prefix's queues, or when
Redis will not say (CLIENT LIST refused): stop them first. Running it twice does no harm.

  --force  repair even so (then run it again once the workers are stopped)`,
  'in-app-token': `usage: chorus in-app-token <userId> [--ttl <duration>]

Prints an in-app token for the customer, signed with IN_APP_TOKEN_SECRET: sent as
\`Authorization: Bearer <token>\`, it reads and updates that customer's in-app inbox (and nothing
else) until it expires. For trying the in-app routes as an app would; an app's backend makes its
tokens with createInAppToken.

  --ttl <duration>  how long it is valid, 1s to 7d (default 1h)`,
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;

export const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMAND_USAGE, name);

export const USAGE = `usage: chorus <command> [options]

Commands:
  validate                       check every journey and template; list every problem
  graph <journey>                print the journey as a Mermaid state diagram
  simulate <journey> --events <file>
                                 dry-run a customer through the journey on a fake clock
  preview <message> --channel <c> [--profile <file>]
                                 render one message for one customer
  send-test <message> --to <address>
                                 send one message for real through the configured email channel
  repair                         rebuild the journey counts and the phone index in Redis
  in-app-token <userId>          print a customer's in-app token (IN_APP_TOKEN_SECRET)

Options for every command but repair and in-app-token:
  --journeys <dir>   the journeys folder (default: JOURNEYS_DIR, else journeys)
  --templates <dir>  the templates folder (default: TEMPLATES_DIR, else templates)
Options for every command:
  -h, --help         this help, or a command's with \`chorus <command> --help\`
  -v, --version      the installed version

Configuration is read from the environment, as the engine reads it (see the README).
Exit status: 0 success, 1 problems found or failure, 2 usage error.`;
