<?php
//
// Ansible managed
//
// The healthcheck's second question, asked of php-fpm (as www-data, with the
// environment and the password copy WordPress itself uses): does the database
// accept WordPress's credentials? A site whose database refuses it is broken
// even while php-fpm answers. One line out: "database ok", or why not (never
// a value).

mysqli_report(MYSQLI_REPORT_OFF);
$password = @file_get_contents('/run/inception/db_password');
if ($password === false) {
    exit("database: cannot read the password copy\n");
}
[$host, $port] = array_pad(explode(':', (string) getenv('WORDPRESS_DB_HOST'), 2), 2, '3306');
$link = mysqli_init();
$link->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);
$connected = @$link->real_connect(
    $host,
    (string) getenv('WORDPRESS_DB_USER'),
    rtrim($password, "\r\n"),
    (string) getenv('WORDPRESS_DB_NAME'),
    (int) $port
);
echo $connected ? "database ok\n" : 'database refused the connection: error ' . mysqli_connect_errno() . "\n";
