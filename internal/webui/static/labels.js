// Plain-language names for agent states and status ids (server.md §4.9).

const AGENT_STATES = {
  loading: 'Starting',
  running: 'Working',
  awaiting_user_input: 'Waiting for your message',
  paused: 'Paused',
  stopped: 'Stopped',
  finished: 'Finished',
  rejected: 'Rejected the task',
  error: 'Error',
  awaiting_user_confirmation: 'Waiting for your confirmation',
  user_confirmed: 'Confirmed',
  user_rejected: 'Rejected by you',
  rate_limited: 'Rate limited, retrying',
};

export function agentStateLabel(state) {
  return AGENT_STATES[state] || state;
}

// The runtime statuses, which describe the sandbox.
const RUNTIME = {
  STATUS$STARTING_RUNTIME: 'starting…',
  STATUS$BUILDING_RUNTIME: 'building…',
  STATUS$RUNTIME_STARTED: 'started',
  STATUS$READY: 'ready',
  STATUS$STOPPED: 'stopped',
  STATUS$ERROR_RUNTIME_DISCONNECTED: 'disconnected',
  STATUS$ERROR: 'error',
};

// runtimeLabel names a runtime status id, or returns '' when id is not one.
export function runtimeLabel(id) {
  return RUNTIME[id] || '';
}

const MESSAGES = {
  STATUS$ERROR_LLM_AUTHENTICATION: 'The model provider rejected the API key. Check the API key in the settings.',
  STATUS$ERROR_LLM_SERVICE_UNAVAILABLE: 'The model provider is unavailable. Try again later.',
  STATUS$ERROR_LLM_INTERNAL_SERVER_ERROR: 'The model provider had an internal error. Try again later.',
  STATUS$ERROR_LLM_OUT_OF_CREDITS: 'The model provider says the account is out of credits.',
  STATUS$ERROR_LLM_CONTENT_POLICY_VIOLATION: 'The model provider refused the request (content policy).',
  STATUS$ERROR_RUNTIME_DISCONNECTED: 'The sandbox is not reachable.',
  STATUS$ERROR_MEMORY: 'Reading the workspace context failed.',
  STATUS$GIT_PROVIDER_AUTHENTICATION_ERROR: 'The git provider rejected the token.',
  CONFIGURATION$SETTINGS_NOT_FOUND: 'No language model is configured yet.',
  AGENT_ERROR$TOO_MANY_CONVERSATIONS: 'Too many conversations run at once; this one was paused. Send a message to continue.',
  CHAT_INTERFACE$AGENT_RATE_LIMITED_STOPPED_MESSAGE: 'The model provider kept rate-limiting the agent, so it stopped.',
};

// statusText is the text of a status update: a known id in plain words, else the server's message.
export function statusText(id, message) {
  if (MESSAGES[id]) return MESSAGES[id];
  if (message && message !== id) return message;
  return id || 'Unknown status';
}

// isKeyProblem reports whether a status id or error text is about the model's API key.
export function isKeyProblem(id, text) {
  return id === 'STATUS$ERROR_LLM_AUTHENTICATION' || /api key|authenticat/i.test(text || '');
}
