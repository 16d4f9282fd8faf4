#!/bin/bash
# Build the Debian 12 Vagrant box the coxswain VMs use (libvirt provider), offline
# from Debian's packages: debootstrap from this machine's own apt mirror, then an
# ext4 image booted directly by its kernel (see box.Vagrantfile). Everything a
# node needs is in it (Docker, nftables, python3-venv, busybox-static, rsync), so
# the VMs need no network to the outside, and so is coxswain's venv
# (/opt/coxswain/venv) with its Python dependencies from the wheelhouse
# (wheelhouse.sh), installed and byte-compiled here at the host's speed: in an
# emulated VM, making the venv and installing the wheels takes minutes.
#
#   sudo deploy/vagrant/build-box.sh          build if needed; prints the .box path
#   deploy/vagrant/build-box.sh --name        the box's name only (deploy/Vagrantfile uses it)
#
# The box's name carries a hash of this recipe (this script, box.Vagrantfile and
# the wheelhouse's dependency list), so a changed recipe or a changed
# dependency means a new box, and an unchanged one is reused from
# $COX_VAGRANT_CACHE (default /var/cache/coxswain/vagrant), as are the .deb files
# and the freshly debootstrapped tree (keyed by the package list and mirror).
# COX_DEBIAN_MIRROR overrides the mirror taken from /etc/apt/sources*.
set -euo pipefail
trap 'echo "build-box.sh: line $LINENO failed" >&2' ERR
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${COX_VAGRANT_CACHE:-/var/cache/coxswain/vagrant}
PACKAGES=systemd-sysv,udev,dbus,openssh-server,sudo,linux-image-amd64,ca-certificates,iproute2,rsync,docker.io,nftables,iptables,conntrack,python3,python3-venv,busybox-static,util-linux,procps

name() {
  local hash
  hash=$( (cat "$HERE/build-box.sh" "$HERE/box.Vagrantfile"; basename "$("$HERE/wheelhouse.sh" --name)") \
         | sha256sum | cut -c1-12)
  echo "coxswain-debian12-$hash"
}
if [ "${1:-}" = --name ]; then name; exit 0; fi
[ $# = 0 ] || { echo "usage: $0 [--name]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap)" >&2; exit 1; }

mkdir -p "$CACHE"
BOX="$CACHE/$(name).box"
if [ -s "$BOX" ]; then echo "$BOX"; exit 0; fi
WHEELHOUSE=$("$HERE/wheelhouse.sh")

mirror() {
  if [ -n "${COX_DEBIAN_MIRROR:-}" ]; then echo "$COX_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

WORK=$(mktemp -d "$CACHE.build.XXXXXX")
trap 'umount -R "$WORK/rootfs/proc" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
BASE="$CACHE/rootfs-$(echo "$PACKAGES $(mirror)" | sha256sum | cut -c1-12).tar"
if [ -s "$BASE" ]; then
  echo "==> reusing the debootstrapped tree $BASE" >&2
  mkdir "$ROOTFS" && tar -C "$ROOTFS" -xpf "$BASE"
else
  mkdir -p "$CACHE/debs"
  echo "==> debootstrap bookworm from $(mirror)" >&2
  debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE/debs" \
    bookworm "$ROOTFS" "$(mirror)" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  tar -C "$ROOTFS" -cpf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
fi

echo "==> configuring the box" >&2
in_root() { chroot "$ROOTFS" /bin/sh -ec "$1"; }
# The user Vagrant logs in as, with Vagrant's well-known key (its own package has it).
in_root 'useradd -m -s /bin/bash vagrant && echo vagrant:vagrant | chpasswd
         echo "vagrant ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/vagrant && chmod 0440 /etc/sudoers.d/vagrant'
key=$(find /usr/share/rubygems-integration /usr/share/vagrant /opt/vagrant -path '*keys/vagrant.pub' 2>/dev/null \
      | head -1 || true)
[ -n "$key" ] || { echo "Vagrant's keys/vagrant.pub not found: install vagrant first" >&2; exit 1; }
install -d -m 0700 "$ROOTFS/home/vagrant/.ssh"
install -m 0600 "$key" "$ROOTFS/home/vagrant/.ssh/authorized_keys"
in_root 'chown -R vagrant:vagrant /home/vagrant/.ssh'
# Each VM makes its own host keys at first boot: ECDSA and Ed25519 only, as an
# RSA key takes minutes to make under emulation.
printf 'UseDNS no\nHostKey /etc/ssh/ssh_host_ecdsa_key\nHostKey /etc/ssh/ssh_host_ed25519_key\n' \
  >"$ROOTFS/etc/ssh/sshd_config.d/vagrant.conf"
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
cat >"$ROOTFS/etc/systemd/system/ssh-host-keys.service" <<'UNIT'
[Unit]
Description=Make this machine's SSH host keys
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for t in ecdsa ed25519; do f=/etc/ssh/ssh_host_$${t}_key; \
  [ -f $$f ] || ssh-keygen -q -t $$t -N "" -f $$f; done'
[Install]
RequiredBy=ssh.service
UNIT
# DHCP on every wired link; named 99-* so the 50-vagrant-*.network files Vagrant
# writes for private networks win over it.
cat >"$ROOTFS/etc/systemd/network/99-dhcp.network" <<'NET'
[Match]
Name=e*
[Network]
DHCP=ipv4
NET
# Online once any link is: the private network's link has no DHCP to wait for.
mkdir -p "$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d"
printf '[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30\n' \
  >"$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d/any.conf"
in_root 'systemctl enable systemd-networkd ssh-host-keys.service >/dev/null 2>&1'
# Docker is not started at boot (deploy/install.sh enables and starts it): under
# emulation on a busy host its start takes minutes and holds up the DHCP lease
# and SSH that Vagrant waits for.
in_root 'systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1'
echo "/dev/vda / ext4 defaults 0 1" >"$ROOTFS/etc/fstab"
echo debian12 >"$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian12\n' >"$ROOTFS/etc/hosts"
# An empty machine-id: each VM makes its own at boot (a shared one means a shared DHCP lease).
: >"$ROOTFS/etc/machine-id"
ln -sf /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
# A small initrd (the disk and network are virtio; the root is ext4): quicker to
# load and unpack than Debian's default of most modules.
printf 'virtio_pci\nvirtio_blk\nvirtio_net\next4\n' >>"$ROOTFS/etc/initramfs-tools/modules"
echo MODULES=list >"$ROOTFS/etc/initramfs-tools/conf.d/coxswain-box"
mount -t proc proc "$ROOTFS/proc"
in_root 'update-initramfs -u -k all >/dev/null 2>&1'
# coxswain's venv with its dependencies (deploy/install.sh then adds coxswain itself).
cp -r "$WHEELHOUSE" "$ROOTFS/tmp/wheelhouse"
in_root 'python3 -m venv /opt/coxswain/venv
         /opt/coxswain/venv/bin/pip install -q --disable-pip-version-check --no-index \
           --find-links /tmp/wheelhouse /tmp/wheelhouse/*.whl
         rm -rf /tmp/wheelhouse /root/.cache'
umount "$ROOTFS/proc"
in_root 'apt-get clean; rm -rf /var/lib/apt/lists/* /var/log/*.log'

echo "==> making the disk image" >&2
cp "$(ls "$ROOTFS"/boot/vmlinuz-* | tail -1)" "$WORK/vmlinuz"
cp "$(ls "$ROOTFS"/boot/initrd.img-* | tail -1)" "$WORK/initrd.img"
truncate -s 4G "$WORK/disk.raw"
mkfs.ext4 -q -L root -d "$ROOTFS" "$WORK/disk.raw"
qemu-img convert -c -O qcow2 "$WORK/disk.raw" "$WORK/box.img"
echo '{"provider": "libvirt", "format": "qcow2", "virtual_size": 4}' >"$WORK/metadata.json"
cp "$HERE/box.Vagrantfile" "$WORK/Vagrantfile"
tar -C "$WORK" -cf "$BOX.tmp" metadata.json Vagrantfile box.img vmlinuz initrd.img
mv "$BOX.tmp" "$BOX"
echo "$BOX"
