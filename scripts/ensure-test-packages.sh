#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: `npm test` runs this first
# (its pretest script), so that the README's test command passes on a fresh machine, and .ci/run
# is that same command. It changes nothing on a machine that has them all.
#
#   scripts/ensure-test-packages.sh [--dry-run] [PACKAGE...]
#
# --dry-run prints what it would run and changes nothing. PACKAGEs replace the list below (the
# script's own test checks a package that no machine has, without installing anything).
set -euo pipefail

# What the tests need from Debian, and why: the one list.
PACKAGES=(
  python3          # runs the shared schedule checker (../shared/tools/validate-schedule), and the context agent in its tests
  openssl          # makes the TLS test's self-signed certificate; the context agent checks signatures with it
  openssh-client   # ssh-keygen makes the context agent tests' host keys and looks them up in known_hosts, and real keys of each type a lease's sshPublicKeys must accept; ssh logs in to the Debian guest with the owner's key; the EC2 front-end's CreateKeyPair makes keys with it
  qemu-system-x86  # boots the test guest (agent, driver and end-to-end tests)
  qemu-utils       # qemu-img: the guests' disks; the server's check of uploaded images and vws image import (test/api/image-*, test/cli/client/image-import)
  busybox-static   # the test guest's initramfs
  dnsmasq-base     # DHCP for the guests, in network namespaces
  iproute2         # ip: network namespaces, bridges and taps
  nftables         # nft: the bridge filters on VMs' taps (the trusted networking layer)
  e2fsprogs        # mke2fs: the test guest's disk
  cloud-init       # cloud-init schema and its YAML reader check every seed vws generates (test/seed)
  genisoimage      # the agent writes each VM's cloud-init seed as an iso9660 volume labelled cidata
  mmdebstrap       # builds the Debian test guest that runs its own cloud-init (guest/debian.ts)
  postgresql       # initdb and pg_ctl (/usr/lib/postgresql/NN/bin) for the private clusters the database-restart test restarts and crashes (test/support/private-postgres.ts); Debian's metapackage pulls in the release's postgresql-NN, so no version is named here
  munge            # munged and mungekey: Slurm's daemons and commands prove who they are with munge; the Slurm harness (test/support/slurm.ts) runs a munged of its own on a key it makes
  slurmctld        # Slurm's controller, which the pilot back-end submits to: the harness starts its own, in a temporary directory, never the system's
  slurmd           # Slurm's node daemon, which runs the jobs (the pilots among them) on the harness's node(s)
  slurm-client     # sbatch, squeue, scancel, scontrol, sinfo: how vws and the tests talk to Slurm
  chromium         # the dashboard's browser tests drive Debian's chromium through playwright-core (no downloaded browsers)
)
# The test guest's kernel is fetched with apt-get download (guest/build.ts): apt's package lists
# must know it, which a fresh machine's do not until apt-get update.
KERNEL_PACKAGE=linux-image-cloud-amd64

dry_run=false
if [[ ${1-} == --dry-run ]]; then
  dry_run=true
  shift
fi
check_lists=true
if (($# > 0)); then
  PACKAGES=("$@")
  check_lists=false
fi

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "ensure-test-packages: this is not a Debian system (no dpkg-query or apt-get). The tests need" >&2
  echo "  ${PACKAGES[*]}" >&2
  echo "or your system's equivalents: install them, then run the tests with: npm run build && npm test --ignore-scripts" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
update=false
((${#missing[@]} > 0)) && update=true
if $check_lists && ! apt-cache show "$KERNEL_PACKAGE" >/dev/null 2>&1; then
  update=true
fi

if ! $update; then
  echo "ensure-test-packages: all ${#PACKAGES[@]} Debian packages the tests need are installed"
  exit 0
fi

commands=("apt-get update")
((${#missing[@]} > 0)) && commands+=("apt-get install -y ${missing[*]}")
if $dry_run; then
  echo "ensure-test-packages: missing: ${missing[*]:-none}"
  for c in "${commands[@]}"; do echo "would run: $c"; done
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  if ((${#missing[@]} > 0)); then
    echo "ensure-test-packages: the tests need Debian packages that are not installed: ${missing[*]}" >&2
  else
    echo "ensure-test-packages: apt's package lists do not know $KERNEL_PACKAGE, which the test guest is built from" >&2
  fi
  echo "that needs root; run:" >&2
  for c in "${commands[@]}"; do echo "  sudo $c" >&2; done
  echo "then npm test again (or run npm test as root, and it installs them itself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# munge, slurmctld and slurmd are services, and their postinst starts them (invoke-rc.d): munge's
# would leave a system munged running on the key its postinst makes, and slurmctld's and slurmd's
# start whenever the machine has an /etc/slurm/slurm.conf. The tests want none of them (the harness
# runs its own, in a temporary directory). invoke-rc.d and deb-systemd-invoke ask
# /usr/sbin/policy-rc.d first, and 101 means "not allowed": ours stands there for the install, and
# whatever the machine had there (or nothing) is put back after, on any exit but a SIGKILL.
# VWS_POLICY_RC_D moves it for this script's own test, which must not change the machine's.
policy=${VWS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
saved_policy=""
put_policy_back() {
  if [[ -n $saved_policy ]]; then mv -f "$saved_policy" "$policy"; else rm -f "$policy"; fi
}
if ((${#missing[@]} > 0)); then
  if [[ -e $policy ]]; then
    saved_policy=$(mktemp "$policy.vws-saved.XXXXXX")
    cp -p "$policy" "$saved_policy"
  fi
  trap put_policy_back EXIT
  trap 'exit 130' INT TERM HUP
  printf '#!/bin/sh\n# vws scripts/ensure-test-packages.sh: no service starts while it installs packages\nexit 101\n' >"$policy.vws-new"
  chmod 0755 "$policy.vws-new"
  mv -f "$policy.vws-new" "$policy"
fi
for c in "${commands[@]}"; do
  echo "ensure-test-packages: $c"
  $c
done
