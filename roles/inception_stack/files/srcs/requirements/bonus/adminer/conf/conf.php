<?php
//
// Ansible managed
//
// Adminer as the stack uses it: Debian's Adminer and plugin loader, with the
// server pinned to the stack's database. Whatever a visitor types as the
// server (another container's name and port, an outside host) or picks as
// the driver, Adminer only ever connects to mariadb, as MySQL, and refuses a
// login that named anything else.

define('ADMINER_DIR', '/usr/share/adminer');
const INCEPTION_DATABASE_SERVER = 'mariadb';

function adminer_object()
{
    include_once ADMINER_DIR . '/plugins/plugin.php';
    include_once ADMINER_DIR . '/plugins/version-noverify.php';

    class InceptionPinnedServer
    {
        public function credentials()
        {
            return [INCEPTION_DATABASE_SERVER, $_GET['username'] ?? '', get_password()];
        }

        public function login($login, $password)
        {
            if (DRIVER !== 'server' || SERVER !== INCEPTION_DATABASE_SERVER) {
                return 'Only the stack\'s database is reachable here: server "'
                    . INCEPTION_DATABASE_SERVER . '", system MySQL.';
            }
            return null; // Adminer's own checks then decide.
        }

        public function loginFormField($name, $heading, $value)
        {
            if ($name === 'driver') {
                return $heading . "<input type='hidden' name='auth[driver]' value='server'>MySQL\n";
            }
            if ($name === 'server') {
                return $heading . "<input name='auth[server]' value='" . INCEPTION_DATABASE_SERVER
                    . "' readonly>\n";
            }
            return null;
        }
    }

    return new AdminerPlugin([
        // No phoning home to adminer.org for a newer version.
        new AdminerVersionNoverify(),
        new InceptionPinnedServer(),
    ]);
}

include ADMINER_DIR . '/adminer.php';
