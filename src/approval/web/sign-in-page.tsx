import { Layout } from './layout.js';

export function SignInPage(props: { next: string; csrf: string; error?: string }) {
  return (
    <Layout title="Sign in" page={{ identity: null, csrf: null }} script={false}>
      <h1>Sign in</h1>
      <form method="post" action="/sign-in" class="sign-in">
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <div class="field">
          <label for="token">API token (from auth.tokens)</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
        </div>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
