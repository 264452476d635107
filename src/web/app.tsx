// The app's frame: providers, the login gate, and the signed-in routes from routes.ts.
// Pages never check the session themselves: anything rendered inside <Layout> has a user.
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { I18nProvider, useI18n } from './i18n/context.tsx';
import { SessionProvider, useSession } from './session.tsx';
import { homePath, safeNext } from './paths.ts';
import { pageRoutes } from './routes.ts';
import { Layout } from './components/layout.tsx';
import { Redirect } from './components/redirect.tsx';
import { ErrorBoundary } from './components/error-boundary.tsx';
import { LoginPage } from './pages/login.tsx';
import { TotpEnrolPage } from './pages/totp-enrol.tsx';
import { NotFoundPage } from './pages/not-found.tsx';

export function App() {
  return (
    <LocationProvider>
      <I18nProvider>
        <SessionProvider>
          <Gate />
        </SessionProvider>
      </I18nProvider>
    </LocationProvider>
  );
}

function Gate() {
  const { state } = useSession();
  const { path, query, url } = useLocation();
  if (state.status === 'loading') return <Splash />;
  if (path === '/login') {
    return state.status === 'signed-in' ? <Redirect to={safeNext(query.next)} /> : <LoginPage notice={state.notice} />;
  }
  if (state.status === 'signed-out') return <Redirect to={`/login?next=${encodeURIComponent(url)}`} />;
  // The firm requires two-step sign-in: nothing else until it is set up (the server refuses the rest anyway).
  if (state.enrolmentRequired) return <TotpEnrolPage />;
  return (
    <Layout>
      <ErrorBoundary>
        <Router>
          {[
            ...pageRoutes.map((page) => <Route key={page.path} path={page.path} component={page.component} />),
            <Route key="/" path="/" component={() => <Redirect to={homePath} />} />,
            <Route key="404" default component={NotFoundPage} />,
          ]}
        </Router>
      </ErrorBoundary>
    </Layout>
  );
}

function Splash() {
  const { t } = useI18n();
  return (
    <div class="splash" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span class="visually-hidden">{t('app.loading')}</span>
    </div>
  );
}
