//! The `Examples:` section of each command's help. A test (`cli_text.rs`) checks that every
//! command has one and that each `deckhand ...` line parses.

pub(super) const DECKHAND: &str = "\
Examples:
  # Roll a service to a new image and wait for a true verdict
  deckhand ecs deploy --cluster prod --service web \\
    --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v42

  # Upload a built site by content hash and invalidate what changed
  deckhand site deploy --dir dist --bucket www.example.com \\
    --distribution-id E2QWRUHAPOMQZL

  # Which path filters the changes of a branch match
  deckhand changes --filters .github/filters.yml --base origin/main --head HEAD";

pub(super) const ECS: &str = "\
Examples:
  deckhand ecs deploy --cluster prod --service web \\
    --image app=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v42

  deckhand ecs diff --cluster prod --service web \\
    --task-definition deploy/web.taskdef.yaml

  deckhand ecs run --cluster prod --service web \\
    --command 'app=bin/rails db:migrate'";

pub(super) const ECS_DEPLOY: &str = "\
Examples:
  # Container `app` to a new tag (registered by digest), watched to a verdict
  deckhand ecs deploy --cluster prod --service web \\
    --image app=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v42

  # A task definition kept in the repository, verified through a health URL
  deckhand ecs deploy --cluster prod --service web \\
    --task-definition deploy/web.taskdef.yaml \\
    --verify-url https://www.example.com/health

  # Two services together; when one fails, both are rolled back
  deckhand ecs deploy --cluster prod --service web --service worker \\
    --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v42 \\
    --rollback all";

pub(super) const ECS_DIFF: &str = "\
Examples:
  deckhand ecs diff --cluster prod --service web \\
    --image app=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v43
  deckhand ecs diff --cluster prod --service web \\
    --task-definition deploy/web.taskdef.yaml --output json";

pub(super) const ECS_ROLLBACK: &str = "\
Examples:
  # Back to the newest ACTIVE revision older than the one running
  deckhand ecs rollback --cluster prod --service web

  # To a given revision; show the plan only
  deckhand ecs rollback --cluster prod --service web --to web:41 --dry-run";

pub(super) const ECS_WAIT: &str = "\
Examples:
  # The verdict of the deployment in flight (after a cancelled or timed-out job)
  deckhand ecs wait --cluster prod --service web

  # A deployment `ecs deploy` printed, for up to 30 minutes
  deckhand ecs wait --cluster prod --service web \\
    --deployment ecs-svc/1234567890123456789 --timeout 30m";

pub(super) const ECS_RUN: &str = "\
Examples:
  # Migrations with the image about to be deployed, placed as the service's are
  deckhand ecs run --cluster prod --service web \\
    --image app=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v42 \\
    --command 'app=bin/rails db:migrate'

  # A job's newest revision on Fargate, without waiting for it
  deckhand ecs run --cluster prod --task-definition nightly-report \\
    --launch-type FARGATE --subnet subnet-0a1b2c3d \\
    --security-group sg-0a1b2c3d --no-wait";

pub(super) const SITE: &str = "\
Examples:
  deckhand site deploy --dir dist --bucket www.example.com \\
    --distribution-id E2QWRUHAPOMQZL";

pub(super) const SITE_DEPLOY: &str = "\
Examples:
  # Upload, invalidate, and delete what the build no longer has
  deckhand site deploy --dir dist --bucket www.example.com \\
    --distribution-id E2QWRUHAPOMQZL --delete

  # Under a prefix, with header rules; show the plan only
  deckhand site deploy --dir build --bucket assets.example.com --prefix site/ \\
    --config deploy/site-rules.yml --dry-run";

pub(super) const IMAGE: &str = "\
Examples:
  deckhand image build --base nginx:1.27 --add dist/:/usr/share/nginx/html/ \\
    --tag 123456789012.dkr.ecr.us-east-1.amazonaws.com/site:v42";

pub(super) const IMAGE_BUILD: &str = "\
Examples:
  # A built site on nginx as one layer, pushed to ECR (the repository created)
  deckhand image build --base nginx:1.27 --add dist/:/usr/share/nginx/html/ \\
    --tag 123456789012.dkr.ecr.us-east-1.amazonaws.com/site:v42 --ecr-create

  # A static binary for two platforms, asked GET /health before the push
  deckhand image build --base gcr.io/distroless/static-debian12 \\
    --add target/release/api:/usr/local/bin/api --tag ghcr.io/example/api:v42 \\
    --platform linux/amd64,linux/arm64 --smoke-path /health --smoke-port 8080";

pub(super) const NGINX: &str = "\
Examples:
  deckhand nginx build --html dist --conf deploy/nginx.conf \\
    --tag 123456789012.dkr.ecr.us-east-1.amazonaws.com/front:v42";

pub(super) const NGINX_BUILD: &str = "\
Examples:
  # Validate the config with nginx -t, check that / serves the site, push
  deckhand nginx build --html dist --conf deploy/nginx.conf \\
    --tag 123456789012.dkr.ecr.us-east-1.amazonaws.com/front:v42

  # The same, then roll the ECS service that runs it
  deckhand nginx build --html dist --conf deploy/nginx.conf \\
    --tag 123456789012.dkr.ecr.us-east-1.amazonaws.com/front:v42 \\
    --deploy-cluster prod --deploy-service front";

pub(super) const ECR: &str = "\
Examples:
  deckhand ecr login
  deckhand ecr prepare --repository api --tag 1f2e3d4c --create";

pub(super) const ECR_LOGIN: &str = "\
Examples:
  # The account's registry in this region (the password is masked in Actions)
  deckhand ecr login

  # Another region's registry, as one JSON object
  deckhand ecr login --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com \\
    --output json";

pub(super) const ECR_PREPARE: &str = "\
Examples:
  # Before a Dockerfile build: the repository's URI, and is 1f2e3d4c pushed?
  deckhand ecr prepare --repository api --tag 1f2e3d4c --tag latest --create

  # Look it up only
  deckhand ecr prepare \\
    --repository 123456789012.dkr.ecr.us-east-1.amazonaws.com/api \\
    --tag 1f2e3d4c --dry-run";

pub(super) const CHANGES: &str = "\
Examples:
  # The changes of a branch since it left main
  deckhand changes --filters .github/filters.yml --base origin/main --head HEAD

  # A list of changed files instead of git, with paths-filter's `every`
  deckhand changes --filters .github/filters.yml --files-from changed.tsv \\
    --quantifier every --output json";

pub(super) const DISPATCH: &str = "\
Examples:
  # Run deploy.yml on main and follow its run to its conclusion
  deckhand dispatch --workflow deploy.yml --ref main \\
    --input environment=staging --wait

  # A repository_dispatch event to another repository
  deckhand dispatch --repo example/infra --event-type deploy-requested \\
    --input service=web";

pub(super) const PR_COMMENT: &str = "\
Examples:
  # In a pull_request job: one comment with the plan, edited on each push
  deckhand pr-comment --body-file plan.md

  # From stdin, to a given pull request, under its own marker
  deckhand pr-comment --body-file - --marker ecs-plan --pr 42 \\
    --repo example/shop";
