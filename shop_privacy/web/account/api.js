// The shop's GraphQL API, on the same site: the session cookie (HttpOnly) goes with every request and
// no script ever sees it.

const GRAPHQL = new URL("../../graphql", import.meta.url);

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join(" "));
    this.errors = errors;
    this.codes = errors.map((error) => error.extensions?.code);
  }
}

export async function gql(query, variables = {}) {
  const response = await fetch(GRAPHQL, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new ApiError(body.errors);
  return body.data;
}
