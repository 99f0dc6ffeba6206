# What both packages' debian/rules share (each sets PACKAGE and LOCK, then includes this).
# build-deb.sh runs them in a copy of the tree whose debian/ is packaging/debian/$(PACKAGE).

VENV := /opt/venvs/$(PACKAGE)
DEST := debian/$(PACKAGE)
# Debian's Python, which runs the virtual environment on the terminal: never another python3
# that comes first on the build machine's PATH.
PYTHON := /usr/bin/python3
PIP_QUIET := $(if $(filter 1,$(DH_VERBOSE)),,--quiet)

%:
	dh $@ --with python-virtualenv

# The kiosk itself goes in as a wheel listed after the lock with its own hash, so that one pip
# run installs everything with --require-hashes (pip refuses any file that is not the one
# locked) and the kiosk is an ordinary install, not an editable one pointing at the build tree.
# --no-deps: the lock lists every package; pip resolves nothing of its own.
# --no-compile: bytecode is made below, for where the files end up.
override_dh_virtualenv:
	$(PYTHON) -m pip wheel $(PIP_QUIET) --no-deps --disable-pip-version-check -w debian/wheels .
	set -e; wheel=$$(ls debian/wheels/shanghai_kiosk-*.whl); \
	{ cat $(LOCK); \
	  echo "shanghai-kiosk @ file://$(CURDIR)/$$wheel \\"; \
	  echo "    --hash=sha256:$$(sha256sum $$wheel | cut -d' ' -f1)"; } >debian/requirements.txt
	dh_virtualenv --builtin-venv --python $(PYTHON) --skip-install \
	  --requirements debian/requirements.txt \
	  --extra-pip-arg=--require-hashes --extra-pip-arg=--no-deps \
	  --extra-pip-arg=--only-binary=:all: --extra-pip-arg=--no-compile \
	  --extra-pip-arg=--disable-pip-version-check --extra-pip-arg=--progress-bar=off \
	  $(if $(PIP_QUIET),--extra-pip-arg=$(PIP_QUIET))
	# Bytecode for every module, named by its installed path (tracebacks show /opt/venvs/...,
	# not the build folder) and checked against the source's hash, not its time: dpkg-deb sets
	# every file's time to the build's, which would make time-stamped bytecode stale, and
	# Python could not rewrite it under ProtectSystem=strict, so it would compile every module
	# again at each start. PySide6's deployment tool ships templates named *.tmpl.py, which
	# are not Python (pip leaves them uncompiled too).
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode checked-hash \
	  -x '\.tmpl\.py$$' -s $(DEST) -p / $(DEST)$(VENV)/lib

# Nothing of the virtual environment is stripped: the manylinux wheels' libraries were
# rewritten by auditwheel (patchelf), and strip corrupts such files (dh-virtualenv's how-to
# says to leave out what breaks). dwz works on the same debug sections.
override_dh_strip override_dh_dwz:

# The system libraries the wheels load are in debian/control's Depends, the same list
# packaging/setup.sh installs (tests/packaging/test_deb.py keeps the two in step):
# dpkg-shlibdeps fails on the wheels' libraries ("cannot find library ... needed by"): they
# need libraries bundled beside them, which no Debian package provides.
override_dh_shlibdeps:

# The wheels' bundled libraries are private to the virtual environment: no shlibs for them.
override_dh_makeshlibs:

# The wheels' files are installed as published (their hashes are the lock's): nothing in them
# to make reproducible, and going through the thousands of files inside PySide6 takes a minute
# or two on two cores.
override_dh_strip_nondeterminism:
	dh_strip_nondeterminism -X$(VENV)/

# zstd, not dpkg's default xz: xz took 15 minutes for the ~1 GB of a virtual environment on
# two cores, zstd takes seconds, for a package about 40% larger (350 MB against 245 MB).
# dpkg and apt read it since Debian 12 (dpkg 1.21.18), and so does reprepro (5.3.0-1.3).
override_dh_builddeb:
	dh_builddeb -- -Zzstd

# The units name /usr/share/doc/<package>/DEPLOYMENT.md as their documentation: kept readable
# as it is, not gzipped.
override_dh_compress:
	dh_compress -X.md

override_dh_clean:
	dh_clean build debian/wheels debian/requirements.txt debian/generated
	rm -rf *.egg-info
