#!/bin/sh
# mmdebstrap's customize hook for the Debian test guest ($1 is the root file system): what makes a
# stock bookworm with Debian's own cloud-init boot fast under TCG. Nothing of vws goes in: the guest
# learns everything from its NoCloud seed, as a vendor's image would.
set -eu
root="$1"

echo debian-guest > "$root/etc/hostname"
chroot "$root" passwd -d root >/dev/null

# Only the NoCloud seed is looked for (probing the other data sources costs seconds under TCG), and
# only the modules vws's seed and the tests use run: every module costs Python start-up time.
cat > "$root/etc/cloud/cloud.cfg.d/90-test-guest.cfg" <<'CFG'
datasource_list: [NoCloud, None]
cloud_init_modules: [bootcmd, write-files, set_hostname, update_hostname, update_etc_hosts, users-groups, ssh]
cloud_config_modules: [runcmd]
cloud_final_modules: [scripts-user, final-message, power-state-change]
# One host key type: RSA key generation alone takes seconds under TCG.
ssh_genkeytypes: [ed25519]
CFG

# openssh-server's postinst made host keys in the tree: every VM of the image would share them.
# cloud-init's ssh module makes each VM its own at first boot.
rm -f "$root"/etc/ssh/ssh_host_*

# Units a test guest never needs, masked: each costs boot time under TCG.
for unit in e2scrub_reap.service getty-static.service getty@tty1.service systemd-pstore.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
  cloud-init-hotplugd.socket systemd-binfmt.service sys-kernel-debug.mount sys-kernel-tracing.mount \
  dev-hugepages.mount dev-mqueue.mount; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

# The image is booted with -kernel/-initrd: no boot loader, and apt's lists are not needed.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
