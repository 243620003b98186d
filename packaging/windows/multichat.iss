; Inno Setup 6 script: dist\multichat-<version>-setup.exe around the one-file
; dist\multichat.exe that packaging\windows\build.ps1 builds. NOT TESTED HERE
; (the project's CI is Linux); see docs/packaging.md.
;
;   iscc /DAppVersion=0.1.0 packaging\windows\multichat.iss

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{6B1C8F0A-5B6E-4E55-9C1E-8B0D2E3A7C41}
AppName=Multichat
AppVersion={#AppVersion}
AppPublisher=Multichat
DefaultDirName={autopf}\Multichat
DefaultGroupName=Multichat
OutputDir=..\..\dist
OutputBaseFilename=multichat-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
; Per-user install by default (no UAC prompt); an admin may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\multichat.exe
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked
; Hosting a chat needs inbound TCP 8765 on private networks.
Name: "firewall"; Description: "Allow other computers on private networks to join a chat hosted here (TCP 8765)"; Flags: unchecked

[Files]
Source: "..\..\dist\multichat.exe"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\Multichat"; Filename: "{app}\multichat.exe"
Name: "{group}\Uninstall Multichat"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Multichat"; Filename: "{app}\multichat.exe"; Tasks: desktopicon

[Run]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""Multichat"" dir=in action=allow protocol=TCP localport=8765 profile=private"; Flags: runhidden; Tasks: firewall
Filename: "{app}\multichat.exe"; Description: "{cm:LaunchProgram,Multichat}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""Multichat"""; Flags: runhidden; RunOnceId: "MultichatFirewall"
