// Telegram OS's GraphiQL set-up. Queries and mutations go over HTTP with the headers of the header editor.
// Subscriptions go over GET /graphql/ws (graphql-transport-ws); the header editor's Authorization travels in
// connection_init, which is where the server reads it.
(function () {
  'use strict';
  const httpUrl = new URL('/graphql', window.location.origin).toString();
  const wsUrl = (() => {
    const url = new URL('/graphql/ws', window.location.origin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.toString();
  })();
  const http = GraphiQL.createFetcher({
    url: httpUrl,
    fetch: (url, opts = {}) => fetch(url, { ...opts, credentials: 'same-origin' }),
  });
  let socket = null;
  let socketAuthorization = null;
  function socketFor(authorization) {
    if (socket && socketAuthorization === authorization) return socket;
    if (socket) socket.dispose();
    socketAuthorization = authorization;
    socket = graphqlWs.createClient({
      url: wsUrl,
      lazy: true,
      connectionParams: authorization ? { authorization } : {},
    });
    return socket;
  }
  function operationOf(params, opts) {
    const ast = opts && opts.documentAST;
    if (!ast) return /^\s*subscription\b/.test(params.query || '') ? 'subscription' : 'query';
    const operations = ast.definitions.filter((d) => d.kind === 'OperationDefinition');
    const chosen = params.operationName
      ? operations.find((d) => d.name && d.name.value === params.operationName)
      : operations[0];
    return chosen ? chosen.operation : 'query';
  }
  function fetcher(params, opts) {
    if (operationOf(params, opts) !== 'subscription') return http(params, opts);
    const headers = (opts && opts.headers) || {};
    const authorization = headers.Authorization || headers.authorization || '';
    return socketFor(authorization).iterate(params);
  }
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: '{\n  "Authorization": "Bearer <your session token from signIn>"\n}',
    })
  );
})();
