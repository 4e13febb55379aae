#!/usr/bin/env bash
# Builds the repository's Dockerfile without a Docker engine and without pulling anything: buildah (chroot
# isolation) with local stand-ins for the two base images, made from a Debian rootfs (debootstrap) and the .NET
# SDK and runtime this machine has. The Dockerfile is the one users build; only its SDK_IMAGE and RUNTIME_IMAGE
# arguments differ.
#
#   bash config/image/build-local.sh            # -> image localhost/healthproxy:local
#   bash config/image/check.sh                  # runs it and checks what the Dockerfile promises
#
# Needs root (buildah and debootstrap), Debian's buildah and debootstrap packages (installed when missing) and a
# Debian mirror (DEBIAN_MIRROR, default deb.debian.org). The rootfs and the stand-in images are kept in
# HEALTHPROXY_IMAGE_WORK (default /var/tmp/healthproxy-image) and in buildah's storage, so a second run rebuilds
# only the gateway image.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${HEALTHPROXY_IMAGE:-localhost/healthproxy:local}
work=${HEALTHPROXY_IMAGE_WORK:-/var/tmp/healthproxy-image}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
sdk_image=localhost/healthproxy-standin/sdk:10.0
runtime_image=localhost/healthproxy-standin/aspnet:10.0
app_uid=1654   # the official .NET images' non-root user "app"

missing=()
for package in buildah debootstrap; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "image: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
aspnet_version=$(ls "$dotnet_root/shared/Microsoft.AspNetCore.App" | sort -V | tail -1)
runtime_version=$(ls "$dotnet_root/shared/Microsoft.NETCore.App" | sort -V | tail -1)
mkdir -p "$work"

# Debian with what the .NET runtime links against (ICU, OpenSSL, CA certificates, time zones).
rootfs=$work/rootfs-$suite
if [ ! -e "$rootfs/.complete" ]; then
  echo "image: debootstrap $suite from $mirror"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3,tzdata "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  touch "$rootfs/.complete"
fi

# A stand-in image: the rootfs, this machine's trust store (its egress proxy's CA included), and the given parts
# of this machine's dotnet installation under /usr/share/dotnet, as the official images lay it out.
standin() {
  local name=$1 extra_env=$2; shift 2
  if buildah inspect --type image "$name" >/dev/null 2>&1; then
    return
  fi

  echo "image: making $name"
  local container mount
  container=$(buildah from scratch)
  mount=$(buildah mount "$container")
  tar -C "$rootfs" --exclude=./.complete --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . | tar -C "$mount" -xf -
  cp /etc/ssl/certs/ca-certificates.crt "$mount/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$mount/usr/share/dotnet"
  local part
  for part in "$@"; do
    mkdir -p "$mount/usr/share/dotnet/$(dirname "$part")"
    cp -a "$dotnet_root/$part" "$mount/usr/share/dotnet/$part"
  done
  ln -sf /usr/share/dotnet/dotnet "$mount/usr/bin/dotnet"
  buildah umount "$container" >/dev/null
  buildah run --isolation chroot "$container" -- groupadd --gid=$app_uid app
  buildah run --isolation chroot "$container" -- useradd --no-log-init --uid=$app_uid --gid=$app_uid --create-home app
  buildah config --env APP_UID=$app_uid --env ASPNETCORE_HTTP_PORTS=8080 --env DOTNET_RUNNING_IN_CONTAINER=true \
    --env DOTNET_VERSION="$runtime_version" --env ASPNET_VERSION="$aspnet_version" \
    ${extra_env:+--env "$extra_env"} --workingdir / "$container"
  buildah commit --quiet --rm "$container" "$name" >/dev/null
}

standin "$runtime_image" "" dotnet LICENSE.txt host \
  "shared/Microsoft.NETCore.App/$runtime_version" "shared/Microsoft.AspNetCore.App/$aspnet_version"
# The SDK stand-in restores through this machine's network, so it checks certificates as this machine does.
standin "$sdk_image" "NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}" dotnet LICENSE.txt host shared sdk sdk-manifests packs templates

echo "image: building $image from Dockerfile"
start=$(date +%s)
buildah build --isolation chroot --pull=never --format docker --layers \
  --build-arg SDK_IMAGE="$sdk_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
  -t "$image" -f Dockerfile . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
echo "image: $image built in $(( $(date +%s) - start )) s"
