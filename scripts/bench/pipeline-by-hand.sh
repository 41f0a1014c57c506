#!/usr/bin/env bash
# The sample app's pipeline as a person would script it with the docker CLI (what Slipway's run
# is measured against in `scripts/bench.sh pipeline`): clone at the commit, build both images,
# start MariaDB with the schema and wait until healthy, start the backend for the frontend's
# tests, run both test suites and copy their reports out, tag and push both images, clean up.
#   pipeline-by-hand.sh REPO COMMIT REGISTRY WORKDIR
# Needs DOCKER_HOST, and DOCKER_CONFIG logged in to REGISTRY. Exits non-zero when a step fails.
set -euo pipefail
repo=$1 commit=$2 registry=$3 work=$4
tag=${commit:0:12}
export DOCKER_BUILDKIT=0
rm -rf "$work" && mkdir -p "$work"
git clone -q "$repo" "$work/src" && git -C "$work/src" checkout -q "$commit"
cd "$work/src"
docker build -q -t "hand-backend:$tag" backend >/dev/null
docker build -q -t "hand-frontend:$tag" frontend >/dev/null
net="hand-$$"
cleanup() { docker rm -f "$net-db" "$net-backend" "$net-tb" "$net-tf" >/dev/null 2>&1 || true; docker network rm "$net" >/dev/null 2>&1 || true; }
trap cleanup EXIT
docker network create "$net" >/dev/null
docker run -d --name "$net-db" --network "$net" --network-alias db \
  -e MARIADB_ROOT_PASSWORD=rootpw -e MARIADB_DATABASE=sample -e MARIADB_USER=sample -e MARIADB_PASSWORD=pw \
  -v "$PWD/db/schema.sql:/docker-entrypoint-initdb.d/schema.sql:ro" \
  --health-cmd 'mariadb-admin ping -h 127.0.0.1 --protocol=tcp --silent' --health-interval 500ms --health-retries 240 \
  mariadb:10.11 >/dev/null
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$net-db")" = healthy ]; do sleep 0.2; done
dbenv=(-e DB_HOST=db -e DB_PORT=3306 -e DB_USER=sample -e DB_PASSWORD=pw -e DB_NAME=sample)
docker run -d --name "$net-backend" --network "$net" --network-alias backend "${dbenv[@]}" -p 127.0.0.1::8000 "hand-backend:$tag" >/dev/null
port=$(docker port "$net-backend" 8000/tcp | head -1 | sed 's/.*://')
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.2; done
tests="pytest -q --junitxml=/reports/junit.xml --cov=. --cov-report=xml:/reports/coverage.xml"
docker run --name "$net-tb" --network "$net" "${dbenv[@]}" "hand-backend:$tag" $tests >/dev/null
docker cp "$net-tb:/reports/junit.xml" "$work/backend-junit.xml" && docker cp "$net-tb:/reports/coverage.xml" "$work/backend-coverage.xml"
docker run --name "$net-tf" --network "$net" -e BACKEND_URL=http://backend:8000 "hand-frontend:$tag" $tests >/dev/null
docker cp "$net-tf:/reports/junit.xml" "$work/frontend-junit.xml" && docker cp "$net-tf:/reports/coverage.xml" "$work/frontend-coverage.xml"
for s in backend frontend; do
  docker tag "hand-$s:$tag" "$registry/hand-$s:$tag"
  docker push -q "$registry/hand-$s:$tag" >/dev/null
done
