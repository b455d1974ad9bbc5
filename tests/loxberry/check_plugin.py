#!/usr/bin/env python3
"""Checks a LoxBerry plugin archive against the rules of LoxBerry's sbin/plugininstall.pl
(plugin interface 2.0, LoxBerry 3), so that a mistake shows up here and not on a user's LoxBerry.

usage: check_plugin.py ZIP
Exit 0 when the archive passes, 1 with one line per problem otherwise.

Rules (what plugininstall.pl does with each part):
- plugin.cfg at the top of the archive or in exactly one folder below it (the installer looks
  there and nowhere else); INI sections read by Config::Simple; the installer stops without
  AUTHOR.NAME, AUTHOR.EMAIL, PLUGIN.VERSION, PLUGIN.NAME, PLUGIN.TITLE, PLUGIN.FOLDER,
  SYSTEM.INTERFACE; NAME and FOLDER lose every character but [A-Za-z0-9_-]; TITLE is cut at 25;
  LB_MINIMUM / LB_MAXIMUM / ARCHITECTURE / REBOOT are read from SYSTEM (LoxBerry 3.x fields).
- Top level: the hook scripts preroot.sh, preupgrade.sh, preinstall.sh, postinstall.sh,
  postupgrade.sh, postroot.sh (any other *.sh is copied but never run) and the folders config,
  bin, templates, cron, data, webfrontend/{html,htmlauth}, icons, daemon/daemon,
  uninstall/uninstall, sudoers/sudoers, dpkg; interface 2.0 plugins must not ship log/.
- Scripts (hooks, daemon, uninstall, bin/*, webfrontend *.cgi/*.pl/*.sh) start with #! and carry
  the run bit.
- icons/icon_{64,128,256,512}.png exist (else LoxBerry's defaults and an error), PNGs of that size.
- dpkg/<uname -m>/ holds only .deb files for that machine (aarch64 arm64, armv7l armhf,
  x86_64 amd64).
- no hard-coded /opt/loxberry outside *.md/*.html/*.txt/*.dat/*.log (the installer warns).
"""
import configparser
import re
import struct
import subprocess
import sys
import tempfile
import zipfile

HOOKS = {"preroot.sh", "preupgrade.sh", "preinstall.sh", "postinstall.sh", "postupgrade.sh", "postroot.sh"}
FOLDERS = {"config", "bin", "templates", "cron", "data", "webfrontend", "icons", "daemon", "uninstall", "sudoers",
           "dpkg"}
TOP_FILES = {"plugin.cfg", "README.md", "LICENSE", "CHANGELOG.md"}
REQUIRED = [("AUTHOR", "NAME"), ("AUTHOR", "EMAIL"), ("PLUGIN", "VERSION"), ("PLUGIN", "NAME"), ("PLUGIN", "TITLE"),
            ("PLUGIN", "FOLDER"), ("SYSTEM", "INTERFACE"), ("SYSTEM", "LB_MINIMUM"), ("SYSTEM", "ARCHITECTURE")]
DPKG_ARCH = {"aarch64": "arm64", "armv7l": "armhf", "x86_64": "amd64"}
CRON = {"crontab", "cron.reboot", "cron.01min", "cron.03min", "cron.05min", "cron.10min", "cron.15min", "cron.30min",
        "cron.hourly", "cron.daily", "cron.weekly", "cron.monthly", "cron.yearly"}
LAX_VERSION = re.compile(r"^v?\d+(\.\d+)*([._-]?[0-9A-Za-z]+)*$")


def plugin_root(names):
    if "plugin.cfg" in names:
        return ""
    roots = sorted({n.split("/")[0] for n in names if n.count("/") == 1 and n.endswith("/plugin.cfg")})
    return roots[0] + "/" if len(roots) == 1 else None


def check_cfg(text, problems):
    cfg = configparser.ConfigParser(interpolation=None, strict=False)
    cfg.optionxform = str.upper
    try:
        cfg.read_string(text)
    except configparser.Error as e:
        return problems.append(f"plugin.cfg: not an INI file: {e}")
    get = lambda s, k: cfg.get(s, k, fallback="").strip()
    for section, key in REQUIRED:
        if not get(section, key):
            problems.append(f"plugin.cfg: {section}.{key} missing or empty (plugininstall.pl stops)")
    for key in ("NAME", "FOLDER"):
        v = get("PLUGIN", key)
        if v and not re.fullmatch(r"[A-Za-z0-9_-]+", v):
            problems.append(f"plugin.cfg: PLUGIN.{key} '{v}' has characters the installer strips")
    if len(get("PLUGIN", "TITLE")) > 25:
        problems.append(f"plugin.cfg: PLUGIN.TITLE '{get('PLUGIN', 'TITLE')}' is longer than 25 characters (cut)")
    if get("PLUGIN", "VERSION") and not LAX_VERSION.match(get("PLUGIN", "VERSION")):
        problems.append(f"plugin.cfg: PLUGIN.VERSION '{get('PLUGIN', 'VERSION')}' is not a version")
    lbmin = get("SYSTEM", "LB_MINIMUM")
    if lbmin and (not LAX_VERSION.match(lbmin) or int(lbmin.lstrip("v").split(".")[0]) < 3):
        problems.append(f"plugin.cfg: SYSTEM.LB_MINIMUM '{lbmin}' is not a LoxBerry 3.x version")
    if get("SYSTEM", "INTERFACE") and get("SYSTEM", "INTERFACE") != "2.0":
        problems.append(f"plugin.cfg: SYSTEM.INTERFACE '{get('SYSTEM', 'INTERFACE')}', expected 2.0")
    arch = get("SYSTEM", "ARCHITECTURE")
    if arch and arch != "false" and not set(arch.split(",")) <= {"raspberry", "x86", "x64"}:
        problems.append(f"plugin.cfg: SYSTEM.ARCHITECTURE '{arch}' names no LoxBerry architecture")


def is_script(rel):
    top = rel.split("/")[0]
    return (rel in HOOKS or rel in ("daemon/daemon", "uninstall/uninstall") or (top == "bin" and not rel.endswith("/"))
            or (top == "webfrontend" and re.search(r"\.(cgi|pl|sh)$", rel)))


def check_layout(rel, problems):
    parts = rel.rstrip("/").split("/")
    top = parts[0]
    if len(parts) == 1 and not rel.endswith("/"):
        if top.endswith(".sh") and top not in HOOKS:
            problems.append(f"{rel}: not a hook script name ({', '.join(sorted(HOOKS))}): never run")
        elif top not in TOP_FILES and top not in HOOKS:
            problems.append(f"{rel}: a file the installer does not know at the top level")
        return
    if top == "log":
        return problems.append(f"{rel}: interface 2.0 plugins must not ship a log folder")
    if top not in FOLDERS:
        return problems.append(f"{rel}: folder '{top}' is not part of a LoxBerry plugin (never installed)")
    if len(parts) < 2:
        return
    sub = parts[1]
    if top == "webfrontend" and sub not in ("html", "htmlauth"):
        problems.append(f"{rel}: webfrontend/{sub} is not installed (html or htmlauth)")
    if top in ("daemon", "uninstall", "sudoers") and sub != top:
        problems.append(f"{rel}: only {top}/{top} is installed")
    if top == "cron" and sub not in CRON:
        problems.append(f"{rel}: not a cron folder the installer knows")
    if top == "dpkg":
        if sub != "apt" and sub not in DPKG_ARCH:
            problems.append(f"{rel}: dpkg/{sub} is no `uname -m` folder ({', '.join(DPKG_ARCH)})")
        elif len(parts) == 3 and not rel.endswith("/") and not parts[2].endswith(".deb"):
            problems.append(f"{rel}: only .deb files belong in dpkg/{sub}")


def check_deb(rel, data, problems):
    folder = rel.split("/")[1]
    with tempfile.NamedTemporaryFile(suffix=".deb") as f:
        f.write(data)
        f.flush()
        try:
            out = subprocess.run(["dpkg-deb", "--field", f.name, "Package", "Architecture"], capture_output=True,
                                 text=True, check=False)
        except FileNotFoundError:
            return
    if out.returncode != 0:
        return problems.append(f"{rel}: not a Debian package ({out.stderr.strip()})")
    fields = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    if fields.get("Package") != "loxcan":
        problems.append(f"{rel}: package '{fields.get('Package')}', expected loxcan")
    if fields.get("Architecture") != DPKG_ARCH.get(folder):
        problems.append(f"{rel}: architecture {fields.get('Architecture')} in dpkg/{folder} "
                        f"(expected {DPKG_ARCH.get(folder)})")


def check_icons(z, root, problems):
    for n in (64, 128, 256, 512):
        name = f"{root}icons/icon_{n}.png"
        try:
            head = z.read(name)[:24]
        except KeyError:
            problems.append(f"icons/icon_{n}.png missing (LoxBerry logs an error and uses its default)")
            continue
        if head[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", head[16:24]) != (n, n):
            problems.append(f"icons/icon_{n}.png is not a {n}x{n} PNG")


def check(path):
    problems = []
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        return [f"{path}: not a ZIP archive ({e})"]
    names = z.namelist()
    root = plugin_root(names)
    if root is None:
        return [f"{path}: no plugin.cfg at the top or in one folder below it"]
    check_cfg(z.read(root + "plugin.cfg").decode("utf-8", "replace"), problems)
    for info in z.infolist():
        if not info.filename.startswith(root) or info.filename == root:
            if info.filename != root:
                problems.append(f"{info.filename}: outside the plugin folder {root}")
            continue
        rel = info.filename[len(root):]
        check_layout(rel, problems)
        if rel.endswith("/"):
            continue
        data = z.read(info)
        mode = info.external_attr >> 16
        if is_script(rel):
            if not data.startswith(b"#!"):
                problems.append(f"{rel}: a script without #! line")
            if not mode & 0o100:
                problems.append(f"{rel}: script without the run bit (mode {oct(mode & 0o777)})")
        if rel.startswith("dpkg/") and rel.endswith(".deb"):
            check_deb(rel, data, problems)
        elif not re.search(r"\.(md|html|txt|dat|log|png|deb)$", rel) and b"/opt/loxberry" in data:
            problems.append(f"{rel}: hard-coded /opt/loxberry (use the paths LoxBerry passes)")
    check_icons(z, root, problems)
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    problems = check(argv[1])
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
