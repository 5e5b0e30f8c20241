<?php
echo "Hello world!\n"
echo "again";
