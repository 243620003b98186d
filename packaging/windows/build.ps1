# Windows recipe: dist\multichat.exe (windowed, one file) and its Inno Setup
# installer. NOT TESTED HERE (the project's CI is Linux); see docs/packaging.md.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Needs Python 3.11+ (py launcher) and Inno Setup 6 (iscc on PATH).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

if (-not (Test-Path build\venv\Scripts\python.exe)) { py -3 -m venv build\venv }
$py = "build\venv\Scripts\python.exe"
& $py -m pip install --quiet --upgrade pip
# Multichat's dependencies (packaging/requirements.py says which), and PyInstaller.
New-Item -ItemType Directory -Force build | Out-Null
& $py packaging\requirements.py | Out-File -Encoding ascii build\requirements.txt
& $py -m pip install --quiet -r build\requirements.txt -r packaging\build-requirements.txt

# The .ico from the SVG, drawn by Qt (the same renderer the app uses).
& $py -c "from PySide6.QtGui import QGuiApplication, QIcon; app = QGuiApplication([]); QIcon('multichat/resources/multichat.svg').pixmap(256, 256).save('build/multichat.ico')"

$env:MULTICHAT_WINDOWED = "1"          # no console window behind the app
$env:MULTICHAT_ICO = (Resolve-Path build\multichat.ico).Path
& build\venv\Scripts\pyinstaller.exe --noconfirm --distpath dist --workpath build\pyinstaller packaging\multichat.spec

$version = (& $py -c "import multichat; print(multichat.__version__)").Trim()
iscc "/DAppVersion=$version" packaging\windows\multichat.iss
