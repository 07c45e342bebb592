; Grok MCP for Windows: a per-user installer (no administrator rights) for the PyInstaller one-folder bundle.
;
; Installs into %LOCALAPPDATA%\Programs\Grok MCP, adds a Start menu entry, optionally starts the tray at
; login (HKCU Run, the same value the tray's own "Start at login" toggle writes: desktop/grok_mcp_desktop/autostart.py),
; and registers an uninstaller under HKCU that can also remove the Claude Desktop entry
; (`grok-mcp.exe clients remove claude-desktop`) before it deletes the program.
;
; Defines (makensis -D…):
;   VERSION     the version, from server/grok_mcp/__init__.py (required)
;   BUNDLE_DIR  the bundle folder, holding grok-mcp.exe, grok-mcp-desktop.exe and _internal\ (required)
;   OUT_FILE    the installer to write (required)
;   RESOURCES   the repository's resources\ folder (icons) (required)
;   COMPRESSOR  lzma (default, for releases) or zlib (fast, for the Linux-built test artifact)
;
; Windows build:  makensis /DVERSION=0.1.0 /DBUNDLE_DIR=build\dist\grok-mcp /DRESOURCES=resources ^
;                          /DOUT_FILE=build\dist\grok-mcp-0.1.0-setup.exe installer\windows\grok-mcp.nsi
; Linux check:    installer/windows/build-nsis.sh (makensis from Debian's nsis package)

!ifndef VERSION
  !error "Pass -DVERSION=x.y.z (grok_mcp.__version__)"
!endif
!ifndef BUNDLE_DIR
  !error "Pass -DBUNDLE_DIR=path\to\the\bundle"
!endif
!ifndef OUT_FILE
  !error "Pass -DOUT_FILE=path\to\grok-mcp-setup.exe"
!endif
!ifndef RESOURCES
  !error "Pass -DRESOURCES=path\to\resources"
!endif
!ifndef COMPRESSOR
  !define COMPRESSOR lzma
!endif

!define APP_NAME "Grok MCP"
!define TRAY_EXE "grok-mcp-desktop.exe"
!define SERVER_EXE "grok-mcp.exe"
!define PUBLISHER "Grok MCP"
!define REG_APP "Software\Grok MCP"
!define REG_UNINSTALL "Software\Microsoft\Windows\CurrentVersion\Uninstall\grok-mcp"
!define REG_RUN "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUN_VALUE "Grok MCP"

Unicode true
SetCompressor /SOLID ${COMPRESSOR}
RequestExecutionLevel user
ManifestDPIAware true

Name "${APP_NAME} ${VERSION}"
OutFile "${OUT_FILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP_NAME}"
InstallDirRegKey HKCU "${REG_APP}" "InstallDir"
BrandingText "${APP_NAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APP_NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP_NAME} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "MIT licensed"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

!define MUI_ICON "${RESOURCES}\icons\grok-mcp.ico"
!define MUI_UNICON "${RESOURCES}\icons\grok-mcp.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${TRAY_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP_NAME} now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; Stop the Grok MCP programs that run from $INSTDIR (trays and the servers MCP clients started), found by
; their executable's path, never by name: files in use cannot be replaced or deleted.
!macro StopRunning
  DetailPrint "Stopping Grok MCP programs running from $INSTDIR"
  nsExec::ExecToLog 'powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command "Get-Process | Where-Object { $$_.Path -and $$_.Path.StartsWith(''$INSTDIR\'', [StringComparison]::OrdinalIgnoreCase) } | Stop-Process -Force -ErrorAction SilentlyContinue"'
  Pop $0
!macroend

Section "${APP_NAME}" SecApp
  SectionIn RO
  !insertmacro StopRunning
  SetOutPath "$INSTDIR"
  ; An upgrade replaces the program; what the previous version bundled but this one does not goes too.
  RMDir /r "$INSTDIR\_internal"
  File /r "${BUNDLE_DIR}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${REG_APP}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${REG_APP}" "Version" "${VERSION}"
  WriteRegStr HKCU "${REG_UNINSTALL}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKCU "${REG_UNINSTALL}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${REG_UNINSTALL}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${REG_UNINSTALL}" "DisplayIcon" "$INSTDIR\${TRAY_EXE}"
  WriteRegStr HKCU "${REG_UNINSTALL}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${REG_UNINSTALL}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${REG_UNINSTALL}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${REG_UNINSTALL}" "NoModify" 1
  WriteRegDWORD HKCU "${REG_UNINSTALL}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${REG_UNINSTALL}" "EstimatedSize" "$0"
SectionEnd

Section "Start menu entry" SecStartMenu
  CreateShortcut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\${TRAY_EXE}" "" "$INSTDIR\${TRAY_EXE}" 0
SectionEnd

Section /o "Start ${APP_NAME} when I sign in" SecAutostart
  WriteRegStr HKCU "${REG_RUN}" "${RUN_VALUE}" '"$INSTDIR\${TRAY_EXE}"'
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${TRAY_EXE}" "" "$INSTDIR\${TRAY_EXE}" 0
SectionEnd

Section "Uninstall"
  ; First, while grok-mcp.exe still exists: offer to take Grok MCP out of Claude Desktop's config.
  ${If} ${FileExists} "$INSTDIR\${SERVER_EXE}"
    MessageBox MB_YESNO|MB_ICONQUESTION \
      "Also remove Grok MCP from Claude Desktop's MCP servers?$\r$\n$\r$\nOnly the $\"grok$\" entry is removed; the rest of Claude Desktop's settings stay as they are." \
      /SD IDNO IDNO skip_claude
      DetailPrint "Removing the grok entry from Claude Desktop"
      nsExec::ExecToLog '"$INSTDIR\${SERVER_EXE}" clients remove claude-desktop'
      Pop $0
      ${If} $0 != 0
        DetailPrint "grok-mcp clients remove claude-desktop exited with $0; Claude Desktop's config was left as it was."
      ${EndIf}
    skip_claude:
  ${EndIf}

  !insertmacro StopRunning
  DeleteRegValue HKCU "${REG_RUN}" "${RUN_VALUE}"
  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  Delete "$DESKTOP\${APP_NAME}.lnk"

  ; Only what the installer put there: never a recursive delete of a folder the user may have chosen.
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${TRAY_EXE}"
  Delete "$INSTDIR\${SERVER_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKCU "${REG_UNINSTALL}"
  DeleteRegKey HKCU "${REG_APP}"
  DetailPrint "Your Grok MCP data (usage, conversations, settings in %LOCALAPPDATA%\grok-mcp) and the key in Windows Credential Manager were kept."
SectionEnd
