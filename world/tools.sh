# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Sourced by world/install.sh (which installs them) and scripts/test.sh (which runs them): the
# cargo tools the test command needs, pinned, and where they live.
#
# Outside the checkout, one directory per version: CI tests a fresh clone each time, and
# building cargo-deny 0.20.2 takes 4.6 CPU-minutes (275 s; 23 min of wall clock on the 2-core
# machine while other builds ran), so a machine builds each version once.
# DECKHAND_TOOLS moves the whole set.
CARGO_DENY_VERSION=0.20.2
DECKHAND_TOOLS="${DECKHAND_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/deckhand/tools}"
CARGO_DENY_ROOT="$DECKHAND_TOOLS/cargo-deny-$CARGO_DENY_VERSION"
