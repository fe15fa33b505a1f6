// The /live page: load the key's segments over HTTP, then watch one segment's members
// enter and exit (and its size) over graphql-ws. No build step; graphql-ws's browser
// build is served beside this file as the global `graphqlWs`.
'use strict';

(function () {
  const MAX_ROWS = 200;
  const RETRY_MS = 1000;
  /** Close codes after which resuming from the last cursor makes sense (SLOW_CONSUMER, going away, abnormal). */
  const RESUMABLE_CLOSE_CODES = [4413, 1001, 1006];

  const $ = (id) => document.getElementById(id);
  const endpoint = new URL('/graphql', window.location.href);
  const wsEndpoint = endpoint.href.replace(/^http/, 'ws');

  let apiKey = '';
  let client = null;
  let stopWatching = [];
  let lastCursor = null;

  function setStatus(text, isError) {
    const status = $('status');
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  async function query(document, variables) {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + apiKey },
      body: JSON.stringify({ query: document, variables: variables || {} }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  async function loadSegments(event) {
    event.preventDefault();
    apiKey = $('apiKey').value.trim();
    setStatus('Loading segments…');
    try {
      const data = await query('query LiveSegments { segments(first: 500) { id name targetEntity } }');
      const select = $('segment');
      select.replaceChildren();
      for (const segment of data.segments) {
        const option = document.createElement('option');
        option.value = segment.id;
        option.textContent = segment.name + ' (' + segment.targetEntity.toLowerCase() + ')';
        select.append(option);
      }
      $('segmentForm').hidden = false;
      setStatus(data.segments.length ? 'Pick a segment to watch.' : 'This sandbox has no segments yet.');
    } catch (error) {
      setStatus('Could not load segments: ' + error.message, true);
    }
  }

  const MEMBERSHIP_CHANGES = `subscription LiveMembers($segmentId: ID!, $after: String) {
    segmentMembershipChanged(segmentId: $segmentId, after: $after) {
      cursor status occurredAt memberId
      profile { firstName lastName workEmail jobTitle account { name } }
      account { name domain industry }
    }
  }`;
  const SIZE_CHANGES = `subscription LiveSize($segmentId: ID!) {
    audienceSizeChanged(segmentId: $segmentId) { size at }
  }`;

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    return td;
  }

  function showChange(change) {
    const row = document.createElement('tr');
    row.className = change.status;
    row.dataset.memberId = change.memberId;
    const person = change.profile;
    const account = change.account || (person && person.account);
    const name = person ? [person.firstName, person.lastName].filter(Boolean).join(' ') : account && account.name;
    row.append(
      cell(change.status === 'REALIZED' ? 'entered' : 'exited'),
      cell(new Date(change.occurredAt).toLocaleString()),
      cell(name || change.memberId),
      cell(person && person.workEmail),
      cell(person && person.jobTitle),
      cell(account && (account.name + (account.domain ? ' (' + account.domain + ')' : ''))),
    );
    const body = $('events');
    body.prepend(row);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
  }

  function subscribeChanges(segmentId) {
    return client.subscribe(
      { query: MEMBERSHIP_CHANGES, variables: { segmentId, after: lastCursor } },
      {
        next: (result) => {
          if (result.errors) return setStatus(result.errors[0].message, true);
          const change = result.data.segmentMembershipChanged;
          lastCursor = change.cursor;
          showChange(change);
        },
        error: (error) => onSubscriptionError(error, segmentId),
        complete: () => {},
      },
    );
  }

  function onSubscriptionError(error, segmentId) {
    const code = error && typeof error.code === 'number' ? error.code : undefined;
    const reason = error && error.reason ? error.reason : (error && error.message) || 'connection lost';
    if (code !== undefined && RESUMABLE_CLOSE_CODES.indexOf(code) === -1) {
      setStatus('Stopped: ' + reason, true);
      return;
    }
    setStatus('Reconnecting (' + reason + ')…', true);
    setTimeout(() => {
      if ($('segment').value === segmentId && client) watch(segmentId, true);
    }, RETRY_MS);
  }

  function stop() {
    for (const unsubscribe of stopWatching) unsubscribe();
    stopWatching = [];
    if (client) client.dispose();
    client = null;
  }

  function watch(segmentId, resuming) {
    stop();
    if (!resuming) {
      lastCursor = null;
      $('events').replaceChildren();
      $('size').textContent = '–';
    }
    client = graphqlWs.createClient({
      url: wsEndpoint,
      connectionParams: { authorization: 'Bearer ' + apiKey },
      retryAttempts: 0,
      lazy: false,
      on: { connected: () => setStatus('Watching; members appear here as they enter and exit.') },
    });
    stopWatching.push(subscribeChanges(segmentId));
    stopWatching.push(
      client.subscribe(
        { query: SIZE_CHANGES, variables: { segmentId } },
        {
          next: (result) => {
            if (result.data) $('size').textContent = String(result.data.audienceSizeChanged.size);
          },
          error: () => {},
          complete: () => {},
        },
      ),
    );
  }

  $('keyForm').addEventListener('submit', loadSegments);
  $('segmentForm').addEventListener('submit', (event) => {
    event.preventDefault();
    watch($('segment').value, false);
  });
})();
