#!/usr/bin/env bash
# The demo (README's first command): builds deckhand, starts the local world (moto + deckhand's
# ECS rollout extension on 127.0.0.1), creates a cluster and a service, runs a migration task of
# the service's task definition (`ecs run`, and a failing one that stops the deploy), deploys a new image,
# then deploys a crash-looping image and shows the failure report and the verified rollback;
# then deploys the example frontend to a local bucket and CloudFront distribution, and
# redeploys it unchanged from a fresh copy (0 uploads); then builds the example nginx image
# (examples/demo/nginx) onto an nginx base in the local registry without a Docker daemon,
# rolls the 'front' service to it, rebuilds it unchanged (0 bytes, no rollout), and rebuilds
# it after an index.html change (one small layer, one rollout). Last, the chain as deploy.yml
# runs it: the example app as a git repository of its own, `deckhand changes` between two
# commits, then only the parts that changed; a commit touching only nginx/html/index.html
# deploys only the nginx front.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

say "building deckhand (the first build takes a few minutes)"
cargo build --locked -p deckhand --quiet
deckhand="$root/target/debug/deckhand"

say "starting the local world"
bash world/install.sh
eval "$(bash world/start.sh --registry)"
trap 'bash world/stop.sh >/dev/null 2>&1 || true' EXIT

# shellcheck source=world/client-env.sh
source world/client-env.sh
aws() { "$root/.venv/bin/aws" "$@"; }
# Rollouts at a watchable pace: tasks start in 2 s, crash 2 s after starting.
"$root/.venv/bin/python" - <<'PY'
import json, os, urllib.request
timings = {"task_start_seconds": 2, "task_fail_seconds": 2, "drain_seconds": 1, "replace_seconds": 1}
req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/_deckhand/config", json.dumps(timings).encode(),
                             {"content-type": "application/json"})
urllib.request.urlopen(req).read()
PY

say "creating cluster 'demo' and service 'web' (2 tasks of registry.local/demo/web:1.0)"
aws ecs create-cluster --cluster-name demo >/dev/null
aws ecs register-task-definition --family web \
    --container-definitions '[{"name":"web","image":"registry.local/demo/web:1.0","memory":256,"portMappings":[{"containerPort":8080}],"environment":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_PASSWORD","value":"s3cr3t-from-the-vault"}],"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/web","awslogs-region":"us-east-1","awslogs-stream-prefix":"web","awslogs-create-group":"true"}}}]' >/dev/null
aws ecs create-service --cluster demo --service-name web --task-definition web:1 --desired-count 2 \
    --deployment-configuration '{"deploymentCircuitBreaker":{"enable":false,"rollback":false}}' >/dev/null
for _ in $(seq 1 100); do
    state="$(aws ecs describe-services --cluster demo --services web --query 'services[0].deployments[0].rolloutState' --output text)"
    [ "$state" = "COMPLETED" ] && break
    sleep 0.2
done

summary="$(mktemp)"
export GITHUB_STEP_SUMMARY="$summary"

say "migration: ecs run of the backend's task definition (as service 'web' runs it) with a migration command, before the backend deploy"
# The world runs the task to the exit code and writes the log lines its environment asks for
# (world/README.md, "Standalone tasks"); a real migration prints its own.
set +e
"$deckhand" ecs run --cluster demo --service web --command 'web=./migrate up' \
    --override-env 'web:DECKHAND_WORLD_LOG_LINES=migrations: applied 0007_add_orders_index' --poll-interval 1s
migrate_ok=$?

say "migration 2: one that fails (exit 3 and an error line): the deploy after it does not run"
"$deckhand" ecs run --cluster demo --service web --command 'web=./migrate up' \
    --override-env web:DECKHAND_WORLD_EXIT_CODE=3 \
    --override-env 'web:DECKHAND_WORLD_LOG_LINES=ERROR: column "total" of relation "orders" already exists' --poll-interval 1s
migrate_bad=$?
if [ "$migrate_bad" = 0 ]; then
    say "(the failing migration passed: the deploy would run)"
else
    printf '  the migration failed (exit %s): the workflow stops before its deploy step\n' "$migrate_bad" >&2
fi
set -e

say "deploy 1: web:1.1 (a healthy image)"
# The web service's images are names only: the world's rollout extension plays their tasks (the
# tag says how they behave) and no registry holds them, so there is nothing to look up. The nginx
# part below deploys images that do exist, and those are checked and pinned to their digests.
set +e
"$deckhand" ecs deploy --cluster demo --service web --image web=registry.local/demo/web:1.1 --skip-image-check --poll-interval 1s
first=$?

say "deploy 2: an image that crash-loops (exit code 1 after starting), circuit breaker off"
"$deckhand" ecs deploy --cluster demo --service web --image web=registry.local/demo/web:fault-exit --skip-image-check --poll-interval 1s
second=$?

say "deploy 3: deploy 1 again (nothing changed: no new revision, no rollout)"
"$deckhand" ecs deploy --cluster demo --service web --image web=registry.local/demo/web:1.1 --skip-image-check --poll-interval 1s
third=$?
set -e

say "site: deploy examples/demo/frontend (a real Vite build) to bucket 'demo-site' behind a CloudFront distribution"
aws s3api create-bucket --bucket demo-site >/dev/null
dist="$(aws cloudfront create-distribution --query Distribution.Id --output text --distribution-config '{
  "CallerReference": "demo", "Comment": "", "Enabled": true,
  "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "demo-site.s3.us-east-1.amazonaws.com",
    "OriginPath": "", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
  "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
    "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
    "TrustedSigners": {"Enabled": false, "Quantity": 0}}}')"
set +e
"$deckhand" site deploy --dir examples/demo/frontend --bucket demo-site --distribution-id "$dist"
site_first=$?
say "site: redeploy the same build from a fresh copy (new mtimes, as in CI): nothing to upload"
copy="$(mktemp -d)"
cp -r examples/demo/frontend/. "$copy/"
touch "$copy"/* "$copy"/assets/*
"$deckhand" site deploy --dir "$copy" --bucket demo-site --distribution-id "$dist"
site_again=$?
set -e
aws s3api head-object --bucket demo-site --key "$(cd examples/demo/frontend && ls assets/*.js)" \
    --query '[ContentType, CacheControl]' --output text | sed 's/^/  hashed asset: /' >&2
aws s3api head-object --bucket demo-site --key index.html --query '[ContentType, CacheControl]' --output text \
    | sed 's/^/  index.html:   /' >&2

say "nginx: an nginx base (Debian's nginx, packed with umoci) in the local 'hub' registry"
hub="$DECKHAND_WORLD_HUB_REGISTRY"
ecr="$DECKHAND_WORLD_ECR_REGISTRY"
base_digest="$(scripts/nginx-base.sh "$hub/library/nginx:1.22")"
echo "  $hub/library/nginx:1.22@$base_digest" >&2
aws ecr create-repository --repository-name demo/front >/dev/null
aws ecs register-task-definition --family front \
    --container-definitions '[{"name":"nginx","image":"nginx:1.22","memory":128,"portMappings":[{"containerPort":80}]}]' >/dev/null
aws ecs create-service --cluster demo --service-name front --task-definition front:1 --desired-count 1 \
    --deployment-configuration '{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}' >/dev/null
nginx_dir="$(mktemp -d)"
cp -r examples/demo/nginx/. "$nginx_dir/"
outputs="$(mktemp)"
nginx_build() { # LABEL
    : >"$outputs"
    GITHUB_OUTPUT="$outputs" "$deckhand" nginx build --html "$nginx_dir/html" --conf "$nginx_dir/default.conf" \
        --base "$hub/library/nginx:1.22" --tag "$ecr/demo/front:main" --ecr-registry "$ecr" \
        --deploy-cluster demo --deploy-service front --poll-interval 1s
}
output() { sed -n "s/^$1=//p" "$outputs" | head -1; }
set +e
say "nginx build 1: html + default.conf appended as one layer, pushed to the local ECR, service 'front' rolled"
nginx_build; nginx_first=$?; nginx_first_bytes="$(output bytes-uploaded)"; nginx_first_image="$(output image)"
say "nginx build 2: the same files again: same digest, 0 bytes pushed, no rollout"
nginx_build; nginx_again=$?; nginx_again_bytes="$(output bytes-uploaded)"; nginx_again_deploy="$(output deploy-verdict)"
say "nginx build 3: index.html changed: one small layer pushed, one rollout"
sed -i 's/<h1>deckhand demo<\/h1>/<h1>deckhand demo, v2<\/h1>/' "$nginx_dir/html/index.html"
nginx_build; nginx_changed=$?; nginx_changed_bytes="$(output bytes-uploaded)"; nginx_changed_image="$(output image)"
say "nginx build 4: default.conf's root moved to a directory the image lacks: nginx -t passes, the smoke run gets an error page, nothing pushed, nothing rolled"
cp "$nginx_dir/default.conf" "$nginx_dir/default.conf.good"
sed -i 's|root /usr/share/nginx/html;|root /usr/share/nginx/www;|' "$nginx_dir/default.conf"
nginx_build; nginx_broken=$?; nginx_broken_smoke="$(output verdict)"
mv "$nginx_dir/default.conf.good" "$nginx_dir/default.conf"
set -e
skopeo inspect --tls-verify=false --creds "AWS:$(aws ecr get-authorization-token --query 'authorizationData[0].authorizationToken' --output text | base64 -d | cut -d: -f2)" \
    "docker://$ecr/demo/front:main" --format '  skopeo: {{.Name}}@{{.Digest}}, {{len .Layers}} layers' >&2

say "checked with awscli"
primary="$(aws ecs describe-services --cluster demo --services web --query 'services[0].deployments[?status==`PRIMARY`].taskDefinition | [0]' --output text)"
revisions="$(aws ecs list-task-definitions --family-prefix web --query 'length(taskDefinitionArns)' --output text)"
image="$(aws ecs describe-task-definition --task-definition "$primary" --query 'taskDefinition.containerDefinitions[0].image' --output text)"
printf '  PRIMARY task definition: %s (%s)\n  registered revisions:    %s\n' "${primary##*/}" "$image" "$revisions" >&2
front="$(aws ecs describe-services --cluster demo --services front --query 'services[0].deployments[?status==`PRIMARY`].taskDefinition | [0]' --output text)"
front_image="$(aws ecs describe-task-definition --task-definition "$front" --query 'taskDefinition.containerDefinitions[0].image' --output text)"

say "the chain: the example app as a git repository, deployed part by part as deploy.yml does"
app="$(mktemp -d)"
cp -r examples/demo/backend examples/demo/nginx examples/demo/frontend examples/demo/deckhand-filters.yml "$app/"
gitc() { git -C "$app" -c user.name=demo -c user.email=demo@example.com "$@"; }
gitc init -q -b main
gitc commit -q --allow-empty -m "empty"
first_commit="$(gitc rev-parse HEAD)"
gitc add -A && gitc commit -q -m "the app: backend, nginx front, frontend"
declare -a chain_rows=()
chain() { # BASE HEAD LABEL: deckhand changes, then each part only when its filter matched
    local base=$1 head=$2 label=$3 result part
    result="$("$deckhand" --output json changes --filters "$app/deckhand-filters.yml" --checkout "$app" --base "$base" --head "$head" 2>/dev/null)"
    for part in backend nginx frontend; do
        local files
        files="$("$root/.venv/bin/python" -c 'import json,sys; print(len(json.loads(sys.argv[1])["filters"][sys.argv[2]]))' "$result" "$part")"
        if [ "$files" = 0 ]; then
            chain_rows+=("$label|$part|skipped|no file of its filter changed")
            continue
        fi
        local status=0 verdict
        : >"$outputs"
        case "$part" in
            backend)
                GITHUB_OUTPUT="$outputs" "$deckhand" ecs deploy --cluster demo --service web \
                    --image "web=registry.local/demo/web:${head:0:12}" --skip-image-check --poll-interval 1s >/dev/null 2>&1 || status=$? ;;
            nginx)
                GITHUB_OUTPUT="$outputs" "$deckhand" nginx build --html "$app/nginx/html" --conf "$app/nginx/default.conf" \
                    --base "$hub/library/nginx:1.22" --tag "$ecr/demo/front:${head:0:12}" --ecr-registry "$ecr" \
                    --deploy-cluster demo --deploy-service front --poll-interval 1s >/dev/null 2>&1 || status=$? ;;
            frontend)
                GITHUB_OUTPUT="$outputs" "$deckhand" site deploy --dir "$app/frontend" --bucket demo-site \
                    --distribution-id "$dist" >/dev/null 2>&1 || status=$? ;;
        esac
        verdict="$(output verdict)"
        chain_rows+=("$label|$part|ran: $verdict (exit $status)|$files changed files")
        [ "$status" = 0 ] || chain_failed=1
    done
}
chain_failed=0
say "chain 1: the first commit of the app (every part changed)"
chain "$first_commit" "$(gitc rev-parse HEAD)" "commit 1"
say "chain 2: a commit touching only nginx/html/index.html"
sed -i 's/<h1>deckhand demo<\/h1>/<h1>deckhand demo, from the chain<\/h1>/' "$app/nginx/html/index.html"
gitc commit -q -am "index.html: new heading"
chain "$(gitc rev-parse HEAD~1)" "$(gitc rev-parse HEAD)" "commit 2"
{
    printf '\n  %-9s %-9s %-28s %s\n' commit part outcome why
    for row in "${chain_rows[@]}"; do
        IFS='|' read -r c p o w <<<"$row"
        printf '  %-9s %-9s %-28s %s\n' "$c" "$p" "$o" "$w"
    done
} >&2
chain_ran_2="$(printf '%s\n' "${chain_rows[@]}" | grep -c '^commit 2|[a-z]*|ran' || true)"

say "summary"
printf '  migration (ecs run):       exit %s (0 = the task exited 0)\n' "$migrate_ok" >&2
printf '  failing migration:         exit %s (1 = failed: the container exited 3; its log lines shown)\n' "$migrate_bad" >&2
printf '  deploy 1 (web:1.1):        exit %s (0 = succeeded)\n' "$first" >&2
printf '  deploy 2 (crash loop):     exit %s (3 = rolled back, rollback verified)\n' "$second" >&2
printf '  deploy 3 (same as deploy 1): exit %s (0 = no change)\n' "$third" >&2
printf '  site deploy:                 exit %s (0 = uploaded)\n' "$site_first" >&2
printf '  site redeploy, fresh copy:   exit %s (0 = no change, 0 uploads)\n' "$site_again" >&2
printf '  nginx build 1:               exit %s, %s bytes pushed, %s\n' "$nginx_first" "$nginx_first_bytes" "$nginx_first_image" >&2
printf '  nginx build 2 (unchanged):   exit %s, %s bytes pushed, rollout: %s\n' "$nginx_again" "$nginx_again_bytes" "$nginx_again_deploy" >&2
printf '  nginx build 3 (index.html):  exit %s, %s bytes pushed, %s\n' "$nginx_changed" "$nginx_changed_bytes" "$nginx_changed_image" >&2
printf '  nginx build 4 (wrong root):  exit %s (2 = the smoke run stopped it, %s), nothing pushed\n' "$nginx_broken" "$nginx_broken_smoke" >&2
printf '  service front ran:           %s (%s), before the chain\n' "${front##*/}" "$front_image" >&2
printf '  the step summaries deckhand wrote are in %s\n' "$summary" >&2

[ "$migrate_ok" = 0 ] && [ "$migrate_bad" = 1 ] \
    && [ "$first" = 0 ] && [ "$second" = 3 ] && [ "$third" = 0 ] && [ "${primary##*/}" = "web:2" ] \
    && [ "$site_first" = 0 ] && [ "$site_again" = 0 ] \
    && [ "$nginx_first" = 0 ] && [ "$nginx_again" = 0 ] && [ "$nginx_again_bytes" = 0 ] \
    && [ "$nginx_again_deploy" = no-change ] && [ "$nginx_changed" = 0 ] && [ "$nginx_broken" = 2 ] \
    && [ "${front##*/}" = "front:3" ] && [ "$front_image" = "$nginx_changed_image" ] \
    && [ "$chain_failed" = 0 ] && [ "$chain_ran_2" = 1 ]
